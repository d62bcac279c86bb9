"""Adding a cadence kind touches core/cadence.py only: a made-up kind, registered here, is accepted by the
config's `cadence = "..."` and gives its due time and next step through a refresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.config import load_config
from callback_sheets.core import cadence
from callback_sheets.core.calendar import BusinessCalendar
from callback_sheets.errors import ConfigError
from tests.conftest import CLINIC_TOML, row
from tests.test_refresh import refreshed


class _EndOfWeek(cadence.Cadence):
    """A made-up kind: every attempt is due at the end of the week's last business day; never final."""

    def _end_of_week(self, cal: BusinessCalendar, day: date) -> datetime:
        """The close of the last business day of ``day``'s week (of the next business day's week when
        ``day`` is not one)."""
        if cal.business_day_end(day) is None:
            day = cal.next_business_date(day)
        while cal.next_business_date(day).isocalendar().week == day.isocalendar().week:
            day = cal.next_business_date(day)
        end = cal.business_day_end(day)
        assert end is not None
        return end

    def first_due(self, cal: BusinessCalendar, rule: cadence.CadenceRule, received: datetime) -> datetime:
        return self._end_of_week(cal, received.date())

    def later_due(self, cal: BusinessCalendar, rule: cadence.CadenceRule, since: datetime) -> datetime:
        return self._end_of_week(
            cal, cal.next_business_date(since.date())
        )  # the week after the attempt's day

    def final(self, rule: cadence.CadenceRule, attempts: int) -> bool:
        return False

    def next_step(self, rule: cadence.CadenceRule, due: cadence.Due, attempts: int) -> str:
        return f"Call back by the end of the week (attempt {due.attempt})"


@pytest.fixture
def end_of_week() -> Iterator[cadence.Cadence]:
    kind = cadence.register(_EndOfWeek("end_of_week"))
    try:
        yield kind
    finally:
        del cadence.CADENCES["end_of_week"]


TOML = CLINIC_TOML + '\n[reasons."Lab results"]\ncadence = "end_of_week"\nmax_attempts = 2\n'


def test_a_registered_kind_runs_through_a_refresh(tmp_path: Path, end_of_week: cadence.Cadence) -> None:
    (tmp_path / "callback_sheets.toml").write_text(TOML, encoding="utf-8")
    config = load_config(tmp_path / "callback_sheets.toml")
    assert config.reasons["Lab results"].rule.kind is end_of_week.kind
    rows = [
        row("2026-12-01 09:10", Reason="Lab results"),  # a Tuesday: due Friday 2026-12-04 at the close
        row(
            "2026-12-01 09:20",
            Reason="Lab results",
            Attempts=2,
            Last_attempt=datetime(2026, 12, 4, 16, 0),
            Last_outcome="No answer",
        ),  # Friday's attempt: due next week's Friday; never "attempts used up"
    ]
    first, second = refreshed(config, rows, now=datetime.fromisoformat("2026-12-04T16:30-06:00"))
    assert first[model.NEXT_ATTEMPT] == datetime.fromisoformat("2026-12-04 17:00")
    assert first[model.NEXT_STEP] == "Call back by the end of the week (attempt 1)"
    assert second[model.NEXT_ATTEMPT] == datetime.fromisoformat("2026-12-11 17:00")
    assert second[model.NEXT_STEP] == "Call back by the end of the week (attempt 3)"


def test_an_unregistered_kind_is_a_config_error_naming_the_kinds(tmp_path: Path) -> None:
    (tmp_path / "callback_sheets.toml").write_text(TOML, encoding="utf-8")
    with pytest.raises(ConfigError, match="is not one of standard, daily, escalation"):
        load_config(tmp_path / "callback_sheets.toml")
