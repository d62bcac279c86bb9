"""The script index (core/script_index.py): a row's Script link without rendering the Scripts tab, the
same links the built tab gives, found anew when a template is edited."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.cells import Link
from callback_sheets.config import Config
from callback_sheets.core import script_blocks, script_index
from callback_sheets.core.script_index import ScriptIndex
from callback_sheets.errors import ConfigError
from tests.conftest import row

PHONE = "(312) 555-0100"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "callback-sheets" / "scripts.txt"


def _index(override: Path | None, clinic: str = "Clinic") -> ScriptIndex | None:
    return script_index.index_for(clinic_name=clinic, callback_number=PHONE, override_dir=override)


def _built(override: Path | None, clinic: str = "Clinic") -> dict[object, tuple[str, int]] | None:
    try:
        tab = script_blocks.build(clinic_name=clinic, callback_number=PHONE, override_dir=override)
    except ConfigError:
        return None
    return {k: (b.label, b.row) for k, b in tab.blocks.items()}


def _links(index: ScriptIndex | None) -> dict[object, tuple[str, int]] | None:
    return None if index is None else index.blocks


def _no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_render(**_: object) -> object:
        raise AssertionError("the Scripts tab was rendered")

    monkeypatch.setattr(script_blocks, "build", no_render)


def _override(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


OVERRIDES = {
    "shipped": None,
    "no do-not-say list in Spanish": {"es/guardrails.txt": "# none\n"},
    "English only": {"en/guardrails.txt": "Never promise anything about {reason}.\n", "es.txt": ""},
    "a failing voicemail": {"en/voicemail.later.txt": "Hello, about your {reason}.\n"},
}


@pytest.mark.parametrize("files", OVERRIDES.values(), ids=OVERRIDES.keys())
def test_the_index_is_the_built_tabs_and_the_next_command_reads_it(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str] | None
) -> None:
    override = None if files is None else _override(tmp_path, files)
    expected = _built(override)
    assert (expected is None) == (files is not None and "en/voicemail.later.txt" in files)
    assert expected is None or len(expected) == 16
    assert _links(_index(override)) == expected and cache.exists()
    _no_build(monkeypatch)  # as a later command finds it: from the file, nothing rendered
    assert _links(_index(override)) == expected
    assert "Caller" not in cache.read_text() and "555-01" not in cache.read_text().replace(PHONE, "")


def test_a_link_is_the_tabs_block_for_any_row(tmp_path: Path, cache: Path) -> None:
    tab = script_blocks.build(clinic_name="Clinic", callback_number=PHONE)
    _index(None)
    index = _index(None)  # read back from the file
    assert index is not None
    for language in ("Spanish", "español", "French", "", None):
        for reason in ("New appointment", "prior  authorization", "Billing", None):
            for attempts in (0, 1, "3", "x", None):
                block = tab.block_for(language, reason, attempts)
                assert block is not None
                assert index.link_for(language, reason, attempts) == (block.label, block.row)


@pytest.mark.parametrize("edit", ["size", "mtime", "new file", "removed file"])
def test_editing_a_template_builds_the_tab_anew(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    override = _override(tmp_path, {"es/guardrails.txt": "# none\n", "en/other.first.txt": "Hi.\n"})
    before = _links(_index(override))
    target = override / "es" / "guardrails.txt"
    if edit == "size":  # a do-not-say list for Spanish: the Spanish blocks get a row more
        target.write_text("Never promise a time.\n", encoding="utf-8")
    elif edit == "mtime":  # the same size, a do-not-say list all the same
        mtime = os.stat(target).st_mtime_ns
        target.write_text("Never.\n", encoding="utf-8")
        os.utime(target, ns=(mtime, mtime + 1_000_000))
    elif edit == "new file":  # a voicemail failing the lint: no links
        (override / "en" / "voicemail.later.txt").write_text("{reason}\n", encoding="utf-8")
    else:
        target.unlink()
    calls = []
    build = script_blocks.build
    monkeypatch.setattr(script_blocks, "build", lambda **kw: calls.append(kw) or build(**kw))
    after = _links(_index(override))
    assert calls and after == _built(override)
    assert after != before or (edit == "removed file" and after == _built(None))
    calls.clear()
    assert _links(_index(override)) == after and calls == []  # kept again


def test_a_corrupt_or_unwritable_cache_is_ignored(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _built(None)
    cache.parent.mkdir(parents=True)
    for content in ("", "garbage\n", "callback-sheets script index 1\nen x\n", "\xff\n"):
        cache.write_text(content, encoding="latin-1")
        assert _links(_index(None)) == expected
        assert cache.read_text(encoding="utf-8").startswith("callback-sheets script index 1\n= ")
    stamp = cache.read_text().splitlines()[1]
    cache.write_text(f"callback-sheets script index 1\n{stamp}\nen other first notarow English\n")
    assert _links(_index(None)) == expected
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache folder cannot be made under a file
    assert _links(_index(None)) == expected


def test_the_file_keeps_the_latest_clinics(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(10):
        _index(None, clinic=f"Clinic {n}")
    assert cache.read_text().count("\n= ") == 8
    _no_build(monkeypatch)
    assert _links(_index(None, clinic="Clinic 9")) == _links(_index(None, clinic="Clinic 2"))
    with pytest.raises(AssertionError, match="rendered"):
        _index(None, clinic="Clinic 1")


def test_build_in_one_process_sees_an_edited_template(tmp_path: Path) -> None:
    override = _override(tmp_path, {"es/guardrails.txt": "# none\n"})
    first = script_blocks.build(clinic_name="Clinic", callback_number=PHONE, override_dir=override)
    (override / "es" / "guardrails.txt").write_text("Never promise a time.\n", encoding="utf-8")
    again = script_blocks.build(clinic_name="Clinic", callback_number=PHONE, override_dir=override)
    assert len(again.rows) == len(first.rows) + 8  # a do-not-say row in each of the 8 Spanish blocks


def _planned_links(changes: object) -> dict[int, Link]:
    cells = getattr(changes, "cells", [])
    return {c.position: c.value for c in cells if c.column == model.SCRIPT and isinstance(c.value, Link)}


def test_refresh_and_attempt_write_the_links_of_the_built_tab(
    config: Config,
    make_queue,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    rows = [
        row("2026-12-01 09:00", ID="CB-00001", Language="Spanish"),
        row("2026-12-01 09:05", Reason="Billing"),
    ]
    backend = make_queue(rows)
    now = datetime(2026, 12, 1, 10, 0, tzinfo=config.tz)
    tab = script_blocks.build(clinic_name=config.clinic_name, callback_number=config.callback_number,
                              override_dir=config.templates)  # fmt: skip
    written = _planned_links(service.refresh(config=config, backend=backend, now=now).plan.changes)
    assert "Pat Example" not in cache.read_text()
    _no_build(monkeypatch)  # the refresh kept the index: the attempt renders nothing
    changes, _ = service.record_attempt(
        config=config, backend=backend, item_id="CB-00001", outcome="No answer", note=None, now=now
    )
    written.update(_planned_links(changes))
    by_position = {r.position: r for r in backend.read().rows}
    assert len(written) == 2
    for position, link in written.items():
        r = by_position[position]
        block = tab.block_for(r.get(model.LANGUAGE), r.get(model.REASON), r.get(model.ATTEMPTS))
        assert block is not None and (str(link), link.tab, link.row) == (
            block.label,
            model.SCRIPTS_TAB,
            block.row,
        )
    assert any("later" in str(link) for link in written.values())  # the attempt's link: a later attempt
