"""What a quick command imports: `queue` on a small workbook loads none of the modules it does not use,
and config load checks `[intake]` from a light name list equal to the intake package's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from callback_sheets.config import intake_names
from tests.conftest import row

CONFIG = """
[clinic]
timezone = "America/Chicago"
[queue]
workbook = "queue.xlsx"
[intake]
format = "asterisk"
mapping = { phone = "Caller" }
[intake.asterisk]
announcement_only = "answered"
columns = ["calldate", "src", "dst", "disposition", "lastapp"]
"""

SCRIPT_MACHINERY = ("callback_sheets.core.scripts", "callback_sheets.core.template_lint")
# modules `queue` has no use for: other commands' libraries, the intake readers, the write path, the
# holidays package's __init__ (every country), other countries, and what xml.sax/urllib.request pull in
NOT_FOR_QUEUE = (
    # the intake readers (config load reads the light intake.registry, the presets' one list)
    "callback_sheets.intake.asterisk",
    "callback_sheets.intake.hosted",
    "callback_sheets.intake.google_voice",
    "callback_sheets.intake.readers",
    "callback_sheets.intake.merge",
    "callback_sheets.app.reports",
    "callback_sheets.core.metrics",
    "callback_sheets.core.demand",
    "callback_sheets.app.archive",
    "callback_sheets.app.runner.loop",
    # the alert rules and the channels (smtplib, ssl, urllib); config load reads only the transports'
    # light list and their settings (notify.transports, notify.settings)
    "callback_sheets.notify.alerts",
    "callback_sheets.notify.channels",
    "callback_sheets.notify.record",
    "callback_sheets.notify.chart",
    "smtplib",
    "callback_sheets.backends.google.backend",
    "callback_sheets.backends.excel.xlsx.patch",
    "callback_sheets.backends.excel.xlsx.graft",
    "callback_sheets.backends.excel.xlsx.graft_workbook",
    "callback_sheets.backends.excel.xlsx.parts",
    "callback_sheets.backends.excel.xlsx.style_merge",
    "callback_sheets.backends.excel.xlsx.drawing",
    "callback_sheets.backends.excel.xlsx.markup",
    "callback_sheets.backends.excel.xlsx.package",
    "callback_sheets.backends.excel.xlsx.zip_write",
    "callback_sheets.backends.excel.xlsx.keyed",
    "openpyxl",
    "gspread",
    "requests",
    "holidays.countries.canada",
    "holidays.financial",
    "importlib.metadata",
    "xml.sax",
    "urllib.request",
    "http.client",
    "email.message",
    "html.parser",
    # phonenumbers' as-you-type formatter, text matcher and short numbers (its __init__ imports them)
    "phonenumbers.asyoutypeformatter",
    "phonenumbers.phonenumbermatcher",
    "phonenumbers.shortnumberinfo",
    # the script templates' machinery: the work list's first names come from core.names
    *SCRIPT_MACHINERY,
)


def _modules_after(folder: Path, *argv: str, cache: Path) -> list[str]:
    """The modules loaded by the command ``argv`` run in ``folder`` in a fresh process, with the holiday
    cache in ``cache``."""
    code = (
        f"import json, sys; sys.argv = ['callback-sheets', *{list(argv)!r}]\n"
        "from callback_sheets.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print(json.dumps([code, sorted(sys.modules)]))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, check=True, env=env
    )
    status, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert status in (0, None), out.stderr
    return list(modules)


def _small_queue(folder: Path) -> None:
    from callback_sheets.app import service
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.config import load_config

    (folder / "callback_sheets.toml").write_text(CONFIG)
    config = load_config(folder / "callback_sheets.toml")
    service.init(config=config, backend=ExcelBackend(config.workbook))


def test_queue_imports_only_what_it_uses(tmp_path: Path) -> None:
    _small_queue(tmp_path)
    modules = _modules_after(tmp_path, "queue", "--now", "2026-12-01T10:00", cache=tmp_path / "cold")
    assert "holidays.countries.united_states" in modules  # the configured country, and only it
    assert "callback_sheets.config" in modules and "phonenumbers" in modules
    loaded = [m for m in NOT_FOR_QUEUE if m in modules or any(n.startswith(m + ".") for n in modules)]
    assert loaded == [], loaded
    assert "holidays" not in modules  # the package's __init__, which loads every country's class
    # the next command finds the country's holidays in the cache the first one wrote: no holidays at all
    again = _modules_after(tmp_path, "queue", "--now", "2026-12-01T10:00", cache=tmp_path / "cold")
    assert [m for m in again if m.startswith(("holidays", "dateutil"))] == []


def test_intake_names_are_the_intake_packages_own() -> None:
    from callback_sheets.intake import GENERIC_MAPPING_KEYS
    from callback_sheets.intake.asterisk import ANNOUNCEMENT_CHOICES, FIELDS

    assert tuple(GENERIC_MAPPING_KEYS) == intake_names.GENERIC_MAPPING_KEYS
    assert intake_names.ASTERISK_FIELDS == FIELDS
    assert intake_names.ANNOUNCEMENT_CHOICES == ANNOUNCEMENT_CHOICES


def test_a_later_import_holidays_is_the_whole_package() -> None:
    """The bare package set up to load one country is not left behind for a library user's import."""
    code = (
        "from callback_sheets.core.closed_days import country_holidays; country_holidays('US', years=2026)\n"
        "import holidays; print(len(holidays.country_holidays('CA', years=2026)), "
        "len(country_holidays('US', years=2026)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["5", "12"], out.stdout + out.stderr


def test_a_later_import_phonenumbers_is_the_whole_package() -> None:
    """Phones are read with phonenumberutil alone; a library user's `import phonenumbers` then gets the
    whole package, the same modules."""
    code = (
        "import sys; from callback_sheets.core.phones import parse_phone, numbers_lib\n"
        "print(parse_phone('(312) 555-0142', 'US').e164, 'phonenumbers.phonenumbermatcher' in sys.modules)\n"
        "import phonenumbers; from phonenumbers import PhoneNumberMatcher, geocoder\n"
        "print(phonenumbers.parse is numbers_lib().parse, phonenumbers.__version__ > '8',\n"
        "      phonenumbers.phonenumberutil is numbers_lib(),\n"
        "      len(list(PhoneNumberMatcher('312 555 0142', 'US'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = ["+13125550142", "False", "True", "True", "True", "1"]
    assert out.stdout.split() == expected, out.stdout + out.stderr


# besides what `queue` does without: the alerts' settings and channels, owner assignment, the refresh's
# contributors (Demand, Metrics), the whole holidays and phonenumbers packages, importlib.resources
NOT_FOR_ATTEMPT = (  # attempt writes the row's Script link: a cold cache renders the Scripts tab's blocks
    *(m for m in NOT_FOR_QUEUE if m not in SCRIPT_MACHINERY and ".excel.xlsx." not in m),
    "callback_sheets.notify.settings",
    "callback_sheets.notify.transports",
    "callback_sheets.core.assign",
    "callback_sheets.app.demand_tab",
    "callback_sheets.intake.registry",
    "importlib.resources",
    "difflib",
)


def test_attempt_imports_only_what_it_uses(
    make_queue: Callable[[Sequence[dict[str, Any]]], object], clinic_dir: Path
) -> None:
    """`attempt` on one item: config, the planner for the row, the Excel backend; no other command's."""
    make_queue([row("2026-12-01 09:00", ID="CB-00001")])
    cache = clinic_dir / "cache"
    argv = ("attempt", "CB-00001", "--outcome", "No answer", "--now", "2026-12-01T10:00")
    modules = _modules_after(clinic_dir, *argv, "--dry-run", cache=cache)
    loaded = [m for m in NOT_FOR_ATTEMPT if m in modules or any(n.startswith(m + ".") for n in modules)]
    assert loaded == [], loaded
    assert "holidays" not in modules and "callback_sheets.backends.excel.backend" in modules
    again = _modules_after(clinic_dir, *argv, cache=cache)  # the holidays from the cache: none loaded
    assert [m for m in again if m.startswith(("holidays", "dateutil"))] == []
    assert [m for m in NOT_FOR_ATTEMPT if m in again] == []
    # and the Script link from the script index the first one kept: no template rendered or linted
    assert "callback_sheets.core.script_blocks" in modules and "callback_sheets.core.script_index" in again
    assert [m for m in (*SCRIPT_MACHINERY, "callback_sheets.core.script_blocks") if m in again] == []
