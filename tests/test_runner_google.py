"""The runner rides out a Google 429 storm on the emulator while an Excel queue keeps running."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from callback_sheets.app import service
from callback_sheets.app.runner.clock import Job
from callback_sheets.app.runner.jobs import refresh_job
from callback_sheets.backends import registry
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.google.backend import GoogleBackend
from callback_sheets.backends.google.http import RetryPolicy
from callback_sheets.cells import Changeset
from callback_sheets.config import Config
from tests.conftest import row
from tests.sheets_emulator.client import emulator_session
from tests.sheets_emulator.server import SheetsEmulator
from tests.test_runner import FakeClock, clinic, drive, local, make_runner

TRIES = 3  # per request, before the backend gives up for this tick


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


def test_runner_rides_out_a_google_429_storm(emu: SheetsEmulator, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = emu.store.create("Clinic callbacks").spreadsheet_id
    waits: list[float] = []

    def google(config: Config) -> GoogleBackend:
        assert config.google is not None
        return GoogleBackend(
            config.google.spreadsheet,
            session=emulator_session(emu.base_url),
            account="queue-bot@example.iam.gserviceaccount.com",
            policy=RetryPolicy(tries=TRIES, jitter=lambda: 1.0),
            sleep=waits.append,
        )

    monkeypatch.setitem(registry.BACKENDS, "google", replace(registry.BACKENDS["google"], open=google))
    config = clinic(
        tmp_path,
        queues=[
            {
                "name": "Uptown",
                "backend": "google",
                "google": {"spreadsheet": key, "credentials": "none.json"},
            },
            {"name": "Downtown", "workbook": "downtown.xlsx"},
        ],
    )
    rows = [row("2026-12-01 07:40", Caller="Emma Miller", Notes="chest pain since Sunday")]
    for _, cfg in config.queues():
        backend = registry.open_backend(cfg)
        service.init(config=cfg, backend=backend)
        with backend.session():
            backend.write(backend.read(), Changeset(new_rows=[dict(r) for r in rows]))

    storm_ticks = 3
    emu.fail_next(count=storm_ticks * TRIES, status=429, retry_after=2)
    stream = io.StringIO()
    clock = FakeClock(local("2026-12-01T08:00"))
    jobs = {Job.OPEN: refresh_job, Job.REFRESH: refresh_job}
    with make_runner(config, clock, jobs, stream=stream) as runner:
        drive(runner, clock, local("2026-12-01T08:30"), step=timedelta(minutes=10))
    lines = stream.getvalue().splitlines()
    uptown = [line for line in lines if 'queue="Uptown"' in line]
    downtown = [line for line in lines if 'queue="Downtown"' in line]
    assert len(uptown) == 4 and len(downtown) == 4
    assert [("streak=" + str(i)) in uptown[i - 1] for i in (1, 2, 3)] == [True, True, True]
    assert "recovered_after=3" in uptown[3]
    assert all("outcome=ok" in line for line in downtown), downtown
    assert waits and all(w == 2 for w in waits)  # Retry-After honoured
    assert (
        "Emma" not in stream.getvalue()
        and "chest" not in stream.getvalue()
        and "555" not in stream.getvalue()
    )
    # the storm cost nothing: the Google queue was refreshed in the end, once
    ids = [r.get("ID") for r in registry.open_backend(config.queues()[0][1]).read().rows]
    assert ids == ["CB-00001"]
    assert ExcelBackend(tmp_path / "downtown.xlsx").read().rows[0].get("ID") == "CB-00001"
