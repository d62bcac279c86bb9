"""Conformance: replay gspread's recorded Google traffic against the emulator, episode by episode.

Prints ``replayed / matched / out of scope`` (with reasons) at the end of the session. Skips with a clear
message only when ``../shared/gspread-cassettes`` is absent (as on a user's machine).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator

import pytest
import requests

from tests.sheets_emulator.replay import CASSETTES, Episode, load_episodes, replay
from tests.sheets_emulator.server import SheetsEmulator
from tests.sheets_emulator.store import Store

if not CASSETTES.is_dir():
    pytest.skip(
        f"recorded Google traffic not found at {CASSETTES} (../shared is absent): conformance not run",
        allow_module_level=True,
    )

EPISODES = load_episodes()
IN_SCOPE = [e for e in EPISODES if e.out_of_scope() is None]
RESULTS: dict[str, bool] = {}


def summary_lines() -> list[str]:
    """The conformance figures: replayed, matched, out of scope (with reasons)."""
    reasons = collections.Counter(e.out_of_scope() for e in EPISODES if e.out_of_scope())
    lines = [
        f"Sheets emulator conformance: {len(EPISODES)} recorded episodes; "
        f"{len(RESULTS)} replayed, {sum(RESULTS.values())} matched, "
        f"{len(EPISODES) - len(IN_SCOPE)} out of scope",
    ]
    lines += [f"  out of scope ({count}): {reason}" for reason, count in reasons.most_common()]
    return lines


class _Summary:
    """A plugin registered at run time so the figures land in the terminal summary."""

    def pytest_terminal_summary(self, terminalreporter: object) -> None:
        for line in summary_lines():
            terminalreporter.write_line(line)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def emulator(request: pytest.FixtureRequest) -> Iterator[SheetsEmulator]:
    manager = request.config.pluginmanager
    if not manager.has_plugin("emulator-conformance-summary"):
        manager.register(_Summary(), "emulator-conformance-summary")
    with SheetsEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_cassettes_split_into_episodes() -> None:
    assert len(EPISODES) >= 124
    assert all(e.interactions for e in EPISODES)
    assert len(IN_SCOPE) > len(EPISODES) // 2


@pytest.mark.parametrize("episode", IN_SCOPE, ids=[e.name for e in IN_SCOPE])
def test_episode_matches_google(
    episode: Episode, emulator: SheetsEmulator, session: requests.Session
) -> None:
    emulator.store = Store()
    mismatch = replay(episode, emulator.base_url, session)
    RESULTS[episode.name] = mismatch is None
    assert mismatch is None, mismatch.describe()
