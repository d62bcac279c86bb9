"""assign_owners: language pools, reasons, caps, escalations, staff-set owners, fairness."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest

from callback_sheets import model
from callback_sheets.config import OwnerConfig
from callback_sheets.core.assign import Assignment, OwnerSpec, assign_owners
from callback_sheets.errors import ConfigError

MARIA = OwnerSpec("Maria", ("English", "Spanish"))
JAMES = OwnerSpec("James", ("English",))
LUIS = OwnerSpec("Luis", ("Spanish",))
PATEL = OwnerSpec("Nurse Patel", ("English",), reasons=("Clinical concern", "Prescription question"))


def row(
    number: int,
    *,
    language: str = "English",
    reason: str = "Billing",
    owner: str = "",
    status: str = "New",
    escalate: bool = False,
) -> dict[str, object]:
    return {
        model.ID: f"CB-{number:05d}",
        model.LANGUAGE: language,
        model.REASON: reason,
        model.OWNER: owner,
        model.STATUS: status,
        model.ESCALATION: "yes" if escalate else "",
    }


def is_open(r: Mapping[str, object]) -> bool:
    return r[model.STATUS] not in model.CLOSED_STATUSES


def is_escalation(r: Mapping[str, object]) -> bool:
    return bool(r[model.ESCALATION])


def run(
    rows: list[dict[str, object]], owners: list[OwnerSpec], escalation_owner: str | None = None
) -> Assignment:
    return assign_owners(
        rows=rows,
        owners=owners,
        escalation_owner=escalation_owner,
        is_escalation=is_escalation,
        is_open=is_open,
    )


def test_round_robin_by_fewest_open_items() -> None:
    owners = [MARIA, JAMES, OwnerSpec("Ana")]
    result = run([row(i) for i in range(9)], owners)
    assert list(result.owners.values()) == ["Maria", "James", "Ana"] * 3
    assert result.unassigned == {}


def test_staff_set_owners_are_untouched_and_counted() -> None:
    rows = [
        row(1, owner="James"),
        row(2, owner="james "),
        row(3, owner="Someone else"),
        row(4),
        row(5),
        row(6),
        row(7, owner="Maria", status="Resolved"),
    ]
    result = run(rows, [MARIA, JAMES])
    # James already has two open items; Maria's one item is closed so it does not count.
    assert result.owners == {"CB-00004": "Maria", "CB-00005": "Maria", "CB-00006": "Maria"}


def test_closed_rows_and_rows_without_id_are_skipped() -> None:
    rows = [row(1, status="Booked"), row(2) | {model.ID: ""}, row(3)]
    assert run(rows, [JAMES]).owners == {"CB-00003": "James"}


def test_spanish_callers_go_to_spanish_speakers() -> None:
    rows = [row(1, language="Spanish"), row(2, language="spanish"), row(3), row(4)]
    result = run(rows, [JAMES, MARIA, LUIS])
    assert result.owners == {
        "CB-00001": "Maria",
        "CB-00002": "Luis",
        "CB-00003": "James",
        "CB-00004": "James",
    }


def test_english_callers_do_not_go_to_spanish_only_owners() -> None:
    result = run([row(1), row(2, language=""), row(3, language="English")], [LUIS, JAMES])
    assert set(result.owners.values()) == {"James"}


def test_other_language_goes_to_anyone() -> None:
    result = run([row(1, language="Other"), row(2, language="Vietnamese")], [LUIS, JAMES])
    assert result.owners == {"CB-00001": "Luis", "CB-00002": "James"}


def test_no_spanish_speaker_configured_means_anyone() -> None:
    assert run([row(1, language="Spanish")], [JAMES]).owners == {"CB-00001": "James"}


def test_reasons_limit_what_an_owner_takes() -> None:
    rows = [row(1, reason="Clinical concern"), row(2, reason="Clinical concern"), row(3), row(4)]
    result = run(rows, [PATEL, JAMES])
    assert result.owners == {
        "CB-00001": "Nurse Patel",
        "CB-00002": "James",
        "CB-00003": "James",
        "CB-00004": "James",
    }


def test_caps_and_why_nobody_fits() -> None:
    owners = [OwnerSpec("Maria", ("English", "Spanish"), max_open=1), OwnerSpec("James", max_open=2)]
    rows = [row(1, owner="James"), row(2), row(3), row(4), row(5, language="Spanish")]
    result = run(rows, owners)
    assert result.owners == {"CB-00002": "Maria", "CB-00003": "James"}
    assert result.unassigned == {
        "CB-00004": "everyone who could take it is at their cap: Maria (1/1), James (2/2)",
        "CB-00005": "everyone who could take it is at their cap: Maria (1/1)",
    }


def test_nobody_handles_the_reason() -> None:
    result = run(
        [row(1, language="Spanish", reason="Billing")],
        [PATEL, OwnerSpec("Luis", ("Spanish",), reasons=("Other",))],
    )
    assert result.unassigned == {"CB-00001": "no owner who speaks Spanish takes 'Billing' calls"}
    result = run([row(2, reason="")], [PATEL])
    assert result.unassigned == {"CB-00002": "no owner who speaks English takes calls without a reason"}
    result = run([row(3, language="Other", reason="")], [PATEL])
    assert result.unassigned == {"CB-00003": "no owner takes calls without a reason"}


def test_escalations_go_to_the_escalation_owner() -> None:
    owners = [MARIA, JAMES, OwnerSpec("Nurse Patel", reasons=("Clinical concern",), max_open=1)]
    rows = [
        row(1, escalate=True, language="Spanish"),
        row(2, escalate=True),
        row(3),
        row(4),
        row(5, escalate=True, owner="James"),
    ]
    result = run(rows, owners, escalation_owner="Nurse Patel")
    # Escalations ignore the escalation owner's language, reasons and cap; the rest never go to Patel
    # (reasons), and James already holds the staff-set escalation, so Maria takes both.
    assert result.owners == {
        "CB-00001": "Nurse Patel",
        "CB-00002": "Nurse Patel",
        "CB-00003": "Maria",
        "CB-00004": "Maria",
    }


def test_escalations_without_escalation_owner_are_assigned_normally() -> None:
    assert run([row(1, escalate=True)], [JAMES]).owners == {"CB-00001": "James"}


def test_escalation_owner_load_counts_for_their_other_work() -> None:
    patel = OwnerSpec("Nurse Patel")
    result = run([row(1, escalate=True), row(2), row(3)], [patel, JAMES], escalation_owner="nurse patel")
    assert result.owners == {"CB-00001": "nurse patel", "CB-00002": "James", "CB-00003": "Nurse Patel"}


def test_fairness_one_pool_is_exact() -> None:
    owners = [MARIA, JAMES, OwnerSpec("Ana"), OwnerSpec("Ben")]
    rows = [row(i, owner="Ben" if i < 3 else "") for i in range(43)]
    # Ben starts with 3 open items; the 40 new ones even everyone out: final loads 11, 11, 11, 10.
    assert Counter(run(rows, owners).owners.values()) == {"Maria": 11, "James": 11, "Ana": 11, "Ben": 7}


def test_fairness_with_mixed_languages_each_pick_is_least_loaded() -> None:
    owners = [MARIA, JAMES, LUIS, OwnerSpec("Ana")]
    rows = [row(i, language=("Spanish", "English", "English", "Spanish", "Other")[i % 5]) for i in range(50)]
    result = run(rows, owners)
    load = Counter[str]()
    for r in rows:
        chosen = result.owners[str(r[model.ID])]
        language = r[model.LANGUAGE]
        eligible = [o.name for o in owners if language == "Other" or language in o.languages]
        assert chosen in eligible
        assert load[chosen] == min(load[name] for name in eligible)
        load[chosen] += 1
    assert max(load.values()) - min(load.values()) <= 2


def test_deterministic() -> None:
    owners = [MARIA, JAMES, LUIS]
    rows = [row(i, language=("Spanish", "English", "Other")[i % 3]) for i in range(30)]
    assert run(rows, owners) == run(rows, owners)


def test_config_owner_entries_work_directly() -> None:
    owners = (OwnerConfig("Maria", ("English", "Spanish")), OwnerConfig("James", max_open=40))
    result = assign_owners(
        rows=[row(1, language="Spanish"), row(2)],
        owners=owners,
        escalation_owner=None,
        is_escalation=is_escalation,
        is_open=is_open,
    )
    assert result.owners == {"CB-00001": "Maria", "CB-00002": "James"}


def test_duplicate_owner_names_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="twice"):
        run([row(1)], [JAMES, OwnerSpec("james")])
