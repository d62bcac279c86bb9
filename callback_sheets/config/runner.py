"""[runner]: how often `run` refreshes, and when the end-of-day and weekly jobs happen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from callback_sheets.config.values import WEEKDAYS, clock_time, no_unknown, opt_text, positive_int
from callback_sheets.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """The [runner] section: how often the runner refreshes, when it closes the day and week."""

    interval_minutes: int = 10
    close_of_day: time = time(17, 15)
    weekly_day: int = 4  # Friday
    weekly_time: time = time(17, 30)


def read_runner(raw: Mapping[str, Any]) -> RunnerConfig:
    no_unknown(raw, {"interval_minutes", "close_of_day", "weekly_day", "weekly_time"}, "runner")
    day = opt_text(raw, "weekly_day", "runner.weekly_day", "friday", example='"friday"').lower()
    if day not in WEEKDAYS:
        raise ConfigError(f'runner.weekly_day: {day!r} is not a weekday name such as "friday"')
    return RunnerConfig(
        interval_minutes=positive_int(raw.get("interval_minutes", 10), "runner.interval_minutes"),
        close_of_day=clock_time(raw.get("close_of_day", "17:15"), "runner.close_of_day"),
        weekly_day=WEEKDAYS.index(day),
        weekly_time=clock_time(raw.get("weekly_time", "17:30"), "runner.weekly_time"),
    )
