"""Conformance: replay gspread's recorded Google traffic against the emulator, episode by episode.

Prints ``replayed / matched / out of scope`` (with reasons) at the end of the session. Skips with a clear
message only when ``../shared/gspread-cassettes`` is absent (as on a user's machine).
"""

from __future__ import annotations

import collections
import sys
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


@pytest.fixture(scope="module")
def emulator(request: pytest.FixtureRequest) -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emu:
        yield emu
    reasons = collections.Counter(e.out_of_scope() for e in EPISODES if e.out_of_scope())
    lines = [
        "",
        f"Sheets emulator conformance: {len(EPISODES)} recorded episodes; "
        f"{len(RESULTS)} replayed, {sum(RESULTS.values())} matched, "
        f"{len(EPISODES) - len(IN_SCOPE)} out of scope",
    ]
    lines += [f"  out of scope ({count}): {reason}" for reason, count in reasons.most_common()]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:  # the terminal report, past output capture
        for line in lines:
            reporter.write_line(line)
    else:
        print("\n".join(lines), file=sys.stderr)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def test_cassettes_split_into_episodes() -> None:
    assert len(EPISODES) >= 124
    assert all(e.interactions for e in EPISODES)
    assert len(IN_SCOPE) > len(EPISODES) // 2


@pytest.mark.parametrize("episode", IN_SCOPE, ids=[e.name for e in IN_SCOPE])
def test_episode_matches_google(episode: Episode, emulator: SheetsEmulator, session: requests.Session) -> None:
    emulator.store = Store()
    mismatch = replay(episode, emulator.base_url, session)
    RESULTS[episode.name] = mismatch is None
    assert mismatch is None, mismatch.describe()
