"""A demo clinic: a config and a workbook holding a realistic synthetic fortnight of missed calls.

Every name and number is made up (555-01xx numbers are reserved for fiction). Some rows carry the
mistakes real staff make, so the Problems column has something to say.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.registry import open_backend
from callback_sheets.cells import CellValue, Changeset
from callback_sheets.config import CONFIG_FILENAME, Config, load_config
from callback_sheets.core.cadence import CadenceRule, next_due
from callback_sheets.core.calendar import BusinessCalendar
from callback_sheets.core.times import parse_now, to_cell
from callback_sheets.errors import CallbackSheetsError

DEMO_CONFIG = """\
# Demo clinic made by `callback-sheets demo`. `callback-sheets example-config` prints every key.
[clinic]
name = "Riverside Family Clinic"
timezone = "America/Chicago"
phone_region = "US"
callback_number = "(312) 555-0100"

[holidays]
country = "US"

[queue]
workbook = "callback_queue.xlsx"

[escalation]
owner = "Nurse Patel"

[[owners]]
name = "Maria"
languages = ["English", "Spanish"]

[[owners]]
name = "James"
languages = ["English"]

[[owners]]
name = "Nurse Patel"
languages = ["English"]
reasons = ["Clinical concern", "Prescription question"]
"""

FIRST_EN = (
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Ethan",
    "Grace",
    "Henry",
    "Chloe",
    "Owen",
    "Ruth",
    "Walter",
)
FIRST_ES = (
    "Sofía",
    "Mateo",
    "Valentina",
    "Santiago",
    "Camila",
    "Diego",
    "Lucía",
    "Javier",
    "Elena",
    "Andrés",
)
LAST_EN = (
    "Miller",
    "Johnson",
    "Brooks",
    "Nguyen",
    "Kowalski",
    "Carter",
    "Reed",
    "Sullivan",
    "Park",
    "Hughes",
)
LAST_ES = ("García", "Hernández", "López", "Martínez", "Ramírez", "Torres", "Flores", "Rivera", "Cruz")
REASON_WEIGHTS = {
    "New appointment": 30,
    "Existing patient follow-up": 18,
    "Document / referral": 10,
    "Prior authorization": 6,
    "Billing": 12,
    "Prescription question": 10,
    "Clinical concern": 6,
    "Other": 8,
}
NOTES_EN = ("wants earliest opening", "asked about insurance", "needs referral form faxed", "", "", "")
NOTES_ES = ("prefiere español", "pregunta por su cita", "", "")
WORRYING = ("mentions fever since yesterday", "says swelling after extraction", "tiene fiebre desde ayer")
OWNERS = ("Maria", "James", "")


DEMO_WORKBOOK = "callback_queue.xlsx"


def write_demo(
    directory: Path, *, now_text: str | None, rows: int = 200, seed: int = 7, force: bool = False
) -> Config:
    """Write DIR/callback_sheets.toml and DIR/callback_queue.xlsx with `rows` made-up missed calls.

    A folder that already holds a config or a workbook is refused (it may be a clinic's real queue)
    unless `force`, which replaces the demo's two files (and nothing else)."""
    config_path = directory / CONFIG_FILENAME
    if not force:
        present = [p.name for p in (config_path, directory / DEMO_WORKBOOK) if p.exists() or p.is_symlink()]
        present += sorted(p.name for p in directory.glob("*.xlsx") if p.name not in present)
        if present:
            raise CallbackSheetsError(
                f"{directory} already holds {', '.join(present)}: the demo would replace "
                f"{CONFIG_FILENAME} and {DEMO_WORKBOOK}; pick an empty folder, or add --force to "
                "replace them"
            )
    directory.mkdir(parents=True, exist_ok=True)
    config_path.write_text(DEMO_CONFIG, encoding="utf-8")
    config = load_config(config_path)
    if config.workbook.exists():
        config.workbook.unlink()
    backend = open_backend(config)
    service.init(config=config, backend=backend)
    now = parse_now(now_text, config.tz)
    with backend.session():
        snapshot = backend.read()
        backend.write(snapshot, Changeset(new_rows=synthetic_rows(config, now, rows, seed)))
    return config


def synthetic_rows(config: Config, now: datetime, count: int, seed: int) -> list[dict[str, CellValue]]:
    rng = random.Random(seed)
    cal = config.calendar()
    start = now - timedelta(days=14)
    out = []
    for _ in range(count):
        received = _arrival(rng, start, now)
        spanish = rng.random() < 0.3
        row = _caller(rng, spanish)
        reason = rng.choices(list(REASON_WEIGHTS), weights=list(REASON_WEIGHTS.values()))[0]
        row.update(
            {
                model.RECEIVED: to_cell(received, config.tz),
                model.REASON: reason,
                model.PATIENT_TYPE: "New"
                if reason == "New appointment" or rng.random() < 0.2
                else "Existing",
                model.URGENCY: config.reasons[reason].urgency,
                model.OWNER: "Nurse Patel"
                if reason == "Clinical concern" and rng.random() < 0.5
                else rng.choice(OWNERS),
                model.STATUS: "New",
            }
        )
        notes = rng.choice(NOTES_ES if spanish else NOTES_EN)
        if rng.random() < 0.05:
            notes = rng.choice(WORRYING)
        row[model.NOTES] = notes
        _progress(rng, row, received, now, cal, config.reasons.get(reason, config.reasons["Other"]).rule)
        if rng.random() < 0.04:
            _mistake(rng, row, now)
        out.append(row)
    out.sort(key=lambda r: str(r[model.RECEIVED]))
    _open_escalations(out, now, cal)
    if len(out) > README_ROW:
        _readme_example(out[README_ROW], now, cal)
    return out


def _open_escalations(rows: list[dict[str, CellValue]], now: datetime, cal: BusinessCalendar) -> None:
    """The two newest clinical messages are still with the nurse (one called back once already); the
    older ones were handled within minutes and closed."""
    flagged = [r for r in rows if r[model.REASON] == "Clinical concern" or r[model.NOTES] in WORRYING]
    for row in flagged[-2:]:
        row.update({model.OWNER: "Nurse Patel", model.STATUS: "Escalated", model.LAST_OUTCOME: None})
        row.update({model.ATTEMPTS: None, model.LAST_ATTEMPT: None})
    if flagged[-2:-1]:
        first = flagged[-2]
        received = first[model.RECEIVED]
        if isinstance(received, datetime):
            at = cal.add_business_minutes(received.replace(tzinfo=cal.tz), 10)
            if at < now:
                first.update({model.ATTEMPTS: 1, model.LAST_OUTCOME: "Voicemail left"})
                first[model.LAST_ATTEMPT] = to_cell(at, cal.tz)


README_ROW = 11  # CB-00012, the README's example: open, with a later-attempt script and a voicemail


def _readme_example(row: dict[str, CellValue], now: datetime, cal: BusinessCalendar) -> None:
    """A referral the clinic follows up every business day, waiting on the patient: open and on time
    whatever `--now`, so `script`, `script --voicemail` and `attempt` do what the README says."""
    day = now.date()
    last = None
    for _ in range(10):  # the latest business afternoon before now
        day = day - timedelta(days=1)
        end = cal.business_day_end(day)
        if end is not None:
            last = end - timedelta(minutes=75)
            break
    row.update(
        {
            model.CALLER: "Lucía Hernández",
            model.PHONE: "(773) 555-0142",
            model.LANGUAGE: "Spanish",
            model.REASON: "Document / referral",
            model.PATIENT_TYPE: "Existing",
            model.URGENCY: "Routine",
            model.OWNER: "Maria",
            model.STATUS: "Waiting on patient",
            model.NOTES: "necesita el formulario de referencia",
            model.ATTEMPTS: 3,
            model.LAST_ATTEMPT: to_cell(last, cal.tz) if last else None,
            model.LAST_OUTCOME: "Voicemail left",
        }
    )


def _arrival(rng: random.Random, start: datetime, now: datetime) -> datetime:
    while True:
        at = start + timedelta(minutes=rng.randrange(int((now - start).total_seconds() // 60)))
        if (at.weekday() < 5 and time(7, 30) <= at.time() <= time(18, 30)) or rng.random() < 0.08:
            return at.replace(second=0, microsecond=0)


def _caller(rng: random.Random, spanish: bool) -> dict[str, CellValue]:
    first = rng.choice(FIRST_ES if spanish else FIRST_EN)
    last = rng.choice(LAST_ES if spanish else LAST_EN)
    area = rng.choice(("312", "773", "872", "708"))
    phone = rng.choice(
        (
            f"({area}) 555-01{rng.randrange(100):02d}",
            f"{area}-555-01{rng.randrange(100):02d}",
            f"+1 {area} 555 01{rng.randrange(100):02d}",
        )
    )
    return {
        model.CALLER: f"{first} {last}",
        model.PHONE: phone,
        model.LANGUAGE: "Spanish" if spanish else "English",
    }


def _progress(
    rng: random.Random,
    row: dict[str, CellValue],
    received: datetime,
    now: datetime,
    cal: BusinessCalendar,
    rule: CadenceRule,
) -> None:
    """A clinic that mostly keeps up: the first attempt comes within the block or the next one, most
    callers are reached on the first or second try, and items whose attempts are used up are closed as
    No response; a few slip through (no attempt yet), which is what Overdue is there to show."""
    reason = str(row[model.REASON])
    clinical = reason == "Clinical concern" or row[model.NOTES] in WORRYING
    latest = now - timedelta(minutes=5)
    daily = reason in ("Document / referral", "Prior authorization")
    max_attempts = 99 if daily else (2 if reason == "New appointment" else 3)
    if rng.random() < 0.03 and now - received < timedelta(hours=30):  # slipped through: no call back yet
        return

    def before_due(start: datetime, attempts: int, last: datetime | None) -> datetime:
        """An attempt some way into the time the cadence gives it (staff mostly call back on time)."""
        due = next_due(cal, rule, received=received, attempts=attempts, last_attempt=last).at
        room = cal.business_minutes_between(start, due)
        return cal.add_business_minutes(start, max(5.0, room * rng.uniform(0.15, 0.85)))

    at = (
        cal.add_business_minutes(received, rng.randrange(5, 14))
        if clinical
        else before_due(received, 0, None)
    )
    attempts = 0
    outcome = ""
    while at <= latest:
        attempts += 1
        row[model.ATTEMPTS] = attempts
        row[model.LAST_ATTEMPT] = to_cell(at.replace(second=0, microsecond=0), cal.tz)
        chance = 0.45 if daily else 0.65
        if rng.random() < chance:
            outcome = rng.choice(("Reached", "Booked", "Reached")) if not daily else "Reached"
            if reason != "New appointment" and outcome == "Booked":
                outcome = "Reached"
            row[model.LAST_OUTCOME] = outcome
            row[model.STATUS] = (
                "Booked" if outcome == "Booked" else rng.choice(("Resolved", "Resolved", "Booked"))
            )
            if row[model.STATUS] == "Booked":
                row[model.LAST_OUTCOME] = "Booked"
            return
        outcome = rng.choice(("No answer", "Voicemail left", "Voicemail left", "Secure message sent"))
        row[model.LAST_OUTCOME] = outcome
        row[model.STATUS] = "Waiting on patient" if daily else "In progress"
        if attempts >= max_attempts:
            if rng.random() < 0.96:
                row[model.STATUS] = "No response"
            return
        at = before_due(at, attempts, at)


def _mistake(rng: random.Random, row: dict[str, CellValue], now: datetime) -> None:
    kind = rng.randrange(6)
    if kind == 0:
        row[model.PHONE] = "555-01"  # digits missing
    elif kind == 1:
        row[model.REASON] = ""
    elif kind == 2:
        row[model.STATUS] = "Boked"
    elif kind == 3:
        row[model.ATTEMPTS] = 2
        row[model.LAST_ATTEMPT] = None
    elif kind == 4:
        row[model.RECEIVED] = (now + timedelta(days=1)).replace(tzinfo=None, second=0, microsecond=0)
    else:
        row[model.STATUS] = "Resolved"
        row[model.LAST_OUTCOME] = None
        row[model.ATTEMPTS] = None
