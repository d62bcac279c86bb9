"""Every config key with a value of the wrong type gets one line naming the key (exit 2), never a
traceback or a value read letter by letter; names that refer to something else must exist."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from callback_sheets.cli import main
from callback_sheets.config import parse_config
from callback_sheets.errors import ConfigError
from tests.conftest import CLINIC_TOML

BASE: dict[str, Any] = tomllib.loads(CLINIC_TOML)
BASE["hours"] = {"monday": [{"name": "morning", "start": "08:00", "end": "12:00"}]}
BASE["reasons"] = {"Billing": {"cadence": "standard", "max_attempts": 3, "urgency": "Routine"}}
BASE["runner"] = {"interval_minutes": 10}
BASE["choices"] = {}
BASE["intake"] = {"format": "generic", "timezone": "UTC", "mapping": {"phone": "From", "received": "Date"}}

WRONG: list[tuple[str, object]] = [
    # (key path, wrong value); a path part in brackets is a list index
    ("clinic", 5),
    ("clinic.name", 5),
    ("clinic.timezone", 5),
    ("clinic.phone_region", 1),
    ("clinic.callback_number", 3125550100),
    ("hours", ["monday"]),
    ("hours.monday", 5),
    ("hours.monday[0]", "morning"),
    ("hours.monday[0].name", 5),
    ("hours.monday[0].start", 8),
    ("hours.monday[0].end", 12.5),
    ("holidays", 5),
    ("holidays.country", 1),
    ("holidays.subdivision", 5),
    ("holidays.closures", "2026-12-24"),
    ("holidays.closures", [5]),
    ("queue", "excel"),
    ("queue.backend", 1),
    ("queue.workbook", 5),
    ("queue.id_prefix", 5),
    ("queue.repeat_window_business_days", "2"),
    ("queue.first_name_in_voicemail", "yes"),
    ("queue.templates", 5),
    ("reasons", 5),
    ("reasons.Billing", 5),
    ("reasons.Billing.cadence", 5),
    ("reasons.Billing.max_attempts", "3"),
    ("reasons.Billing.urgency", 5),
    ("escalation", 5),
    ("escalation.owner", 5),
    ("escalation.minutes", "15"),
    ("escalation.keywords", "fever"),
    ("escalation.keywords", [5]),
    ("owners", 5),
    ("owners[0]", "Maria"),
    ("owners[0].name", 5),
    ("owners[0].languages", 5),
    ("owners[0].languages", "English"),
    ("owners[0].reasons", "Billing"),
    ("owners[0].reasons", [1]),
    ("owners[0].max_open", "4"),
    ("runner", 5),
    ("runner.interval_minutes", "10"),
    ("runner.close_of_day", 17),
    ("runner.weekly_day", 5),
    ("runner.weekly_time", 17.5),
    ("choices", 5),
    ("choices.statuses", "New"),
    ("choices.closed_statuses", 5),
    ("choices.outcomes", [1, 2]),
    ("choices.urgencies", "Urgent"),
    ("choices.patient_types", 5),
    ("choices.languages", 5),
    ("google", 5),
    ("google.spreadsheet", 5),
    ("google.worksheet", 5),
    ("google.credentials", 5),
    ("queues", 5),
    ("queues[0].name", 5),
    ("queues[0].backend", 5),
    ("queues[0].workbook", 5),
    ("intake", 5),
    ("intake.format", 5),
    ("intake.timezone", 5),
    ("intake.mapping", 5),
    ("intake.mapping.phone", 5),
]


def _with(path: str, value: object) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    if path.startswith("google"):
        raw["google"] = {"spreadsheet": "1AbC", "worksheet": "Queue", "credentials": "key.json"}
    if path.startswith("queues"):
        raw["queues"] = [{"name": "North", "workbook": "north.xlsx"}]
    parts = path.replace("[", ".[").split(".")
    node: Any = raw
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value
    return raw


def test_the_base_config_is_good() -> None:
    parse_config(copy.deepcopy(BASE), base=Path("."))
    for path, _ in WRONG:  # and every key of the table is really there to be made wrong
        _with(path, None)


@pytest.mark.parametrize(("path", "value"), WRONG, ids=[f"{p}={v!r}" for p, v in WRONG])
def test_a_wrong_type_names_its_key(path: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_with(path, value), base=Path("."))
    message = str(caught.value)
    key = path.split("[")[0] if path.endswith("]") else path
    assert message.startswith(key), message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("owners[0].reasons", ["Billing", "Dental emergencies"],
         "owners[0].reasons: 'Dental emergencies' is not a reason"),
        ("owners[1].languages", ["English", "Klingon"],
         "owners[1].languages: 'Klingon' is not one of the languages"),
        ("escalation.owner", "Dr Nobody",
         "escalation.owner: 'Dr Nobody' is not one of the [[owners]] (Maria, James, Nurse Patel)"),
    ],
)  # fmt: skip
def test_names_that_do_not_exist_are_named(path: str, value: object, message: str) -> None:
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
    ):
        parse_config(_with(path, value), base=Path("."))


def test_languages_5_is_one_line_with_exit_2(clinic_dir: Path) -> None:
    toml = clinic_dir / "callback_sheets.toml"
    toml.write_text(toml.read_text().replace('languages = ["English"]\n', "languages = 5\n", 1))
    result = CliRunner().invoke(main, ["--config", str(toml), "queue"], catch_exceptions=False)
    assert result.exit_code == 2
    assert (
        result.output.strip() == "error: owners[1].languages: must be a list of names, "
        'e.g. ["English", "Spanish"], not the number 5'
    )
