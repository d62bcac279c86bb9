"""Adding a phone-system preset is one registry entry: a made-up one, imported through `import-calls`.

The preset below is what a new phone system's module would hold (a header layout and its
`layout_preset` entry); the test adds it to `intake.registry.REGISTRY` the way a new entry would be,
and everything else (--format, detection, the error messages' lists) follows from the registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.cli import main
from callback_sheets.intake import registry
from callback_sheets.intake.presets import Layout

EXPORT = (
    "Call Ref,Rang At,Caller,Who,Way,Outcome\n"
    "R1,2026-12-01T15:10:00Z,+13125550142,ANNA LEE,in,unanswered\n"
    "R2,2026-12-01T15:20:00Z,+13125550143,JOHN SMITH,in,talked\n"
    "R3,2026-12-01T15:30:00Z,+13125550144,,in,left message\n"
    "R4,2026-12-01T15:40:00Z,+13125550145,,out,unanswered\n"
)


def _acme(index: Mapping[str, int]) -> Layout | None:
    """The made-up "Acme PBX" export: `Call Ref, Rang At, Caller, Who, Way, Outcome`."""
    if not {"callref", "rangat", "caller", "way", "outcome"} <= set(index):
        return None
    return Layout(
        name="acme-pbx",
        received=(index["rangat"],),
        received_fallback=(),
        phone=index["caller"],
        caller_name=index.get("who"),
        direction=index["way"],
        inbound=frozenset({"in"}),
        status=index["outcome"],
        kinds={"unanswered": "missed", "left message": "voicemail"},
        call_id=index["callref"],
        call_type=None,
        skip_types=frozenset(),
        naive_tz=UTC,
    )


ACME = registry.layout_preset(
    "acme-pbx", "Acme PBX call list (Call Ref, Rang At, Caller, Way, Outcome)", _acme
)


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, ACME))


def _import(config_path: Path, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(
        main, ["--config", str(config_path), "import-calls", *args, "--json", "--now", "2026-12-01T11:00"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("named", [True, False], ids=["--format", "detected"])
def test_a_registered_preset_imports_through_the_cli(
    acme: None,
    config,
    make_queue,
    tmp_path: Path,
    named: bool,  # type: ignore[no-untyped-def]
) -> None:
    make_queue([])
    export = tmp_path / "acme.csv"
    export.write_text(EXPORT, encoding="utf-8")
    summary = _import(config.path, str(export), *(["--format", "acme-pbx"] if named else []))
    assert summary["format"] == "acme-pbx"
    assert (summary["missed_calls"], summary["ignored"], summary["new_rows"]) == (2, 2, 2)
    ws = openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=False)) for r in ws.iter_rows(min_row=2)]
    assert sorted(str(r[model.PHONE]) for r in rows) == ["+13125550142", "+13125550144"]


def test_the_registry_names_it_everywhere(acme: None) -> None:
    assert "acme-pbx" in registry.formats() and registry.formats()[-1] == "generic"
    assert registry.preset_names()[-1] == "acme-pbx"
