"""Reusing compressed blocks of a sheet part (xlsx/blocks.py, cuts.py): a second write copies the
blocks it did not change, and whatever the old member holds (one stream as Excel writes it, sync flushes
that keep the dictionary, a forged marker in the data) the new part inflates to exactly the new XML."""

from __future__ import annotations

import random
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from callback_sheets.backends.excel.xlsx import blocks as blocks_module
from callback_sheets.backends.excel.xlsx.blocks import MARK, OldBlocks, _clean, inflate
from callback_sheets.backends.excel.xlsx.cuts import RowCuts
from callback_sheets.backends.excel.xlsx.formulas import first_formula
from callback_sheets.backends.excel.xlsx.patch import CellValue, patch_workbook
from callback_sheets.backends.excel.xlsx.zip_streams import Deflated
from callback_sheets.backends.excel.xlsx.zip_write import write_package
from tests.test_xlsx_quirks import make_package, worksheet

PART = "xl/worksheets/sheet1.xml"
OUTCOMES = ["Booked", "No answer", "Reached"]


def _rows(count: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    return "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>ID-{n:06d}</t></is></c>'
        f'<c r="B{n}"><v>{rng.random():.12f}</v></c>'
        f'<c r="C{n}" t="inlineStr"><is><t>{rng.choice(OUTCOMES)}</t></is></c></row>'
        for n in range(1, count + 1)
    )


def _sheet(count: int = 12_000) -> str:
    return worksheet(_rows(count)).replace("<sheetData>", f'<dimension ref="A1:C{count}"/><sheetData>')


def _part(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every member's CRC holds
        return archive.read(PART)


def _reuse_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(blocks, reused) of every part compressed from now on."""
    log: list[tuple[int, int]] = []
    close = Deflated.close

    def logged(self: Deflated) -> Deflated:
        done = close(self)
        log.append((self.blocks, self.reused))
        return done

    monkeypatch.setattr(Deflated, "close", logged)
    return log


def _with_stream(src: Path, dst: Path, content: bytes, stream: bytes) -> Path:
    """A copy of ``src`` whose sheet part is ``content`` compressed as the raw deflate ``stream``."""
    member = Deflated(zipfile.ZIP_DEFLATED)
    member.close()
    member.data, member.crc, member.size = [stream], zlib.crc32(content), len(content)
    with open(src, "rb") as source:
        write_package(source, {PART: member}, {}, dst)
    return dst


def _cut_points(content: bytes) -> list[bytes]:
    """The blocks our writer cuts ``content`` into."""
    found: list[bytes] = []
    cuts = RowCuts(found.append, rows=True)
    cuts.write(content)
    cuts.close()
    assert b"".join(found) == content
    return found


def test_a_second_write_copies_the_unchanged_blocks_and_inflates_to_the_new_xml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_package(tmp_path / "src.xlsx", _sheet())  # zipfile's one stream, as Excel writes
    log = _reuse_log(monkeypatch)
    patch_workbook(src, tmp_path / "one.xlsx", edits={"Queue": {(6000, 2): "first"}})
    assert log[-1][1] == 0 and log[-1][0] > 5  # nothing to reuse in a member we did not write
    edits: dict[tuple[int, int], CellValue] = {(5000, 3): "a much longer value than the one before"}
    appends: list[list[CellValue]] = [["ID-new", 1.5, "Booked"]]
    patch_workbook(
        tmp_path / "one.xlsx", tmp_path / "two.xlsx", edits={"Queue": edits}, appends={"Queue": appends}
    )
    blocks, reused = log[-1]
    assert reused >= blocks - 4  # the head, the edited rows, the appended rows and the tail are new
    # the same patch of the same XML zipped as one stream (nothing reused) gives the same part
    plain = make_package(tmp_path / "plain.xlsx", _part(tmp_path / "one.xlsx").decode())
    patch_workbook(plain, tmp_path / "expected.xlsx", edits={"Queue": edits}, appends={"Queue": appends})
    assert log[-1][1] == 0
    got = _part(tmp_path / "two.xlsx")
    assert got == _part(tmp_path / "expected.xlsx")
    assert b"a much longer value" in got and b'<dimension ref="A1:C12001"/>' in got


def test_a_stream_flushed_without_resetting_its_dictionary_is_not_copied_blindly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sync flushes at our very cut points, but one stream: a block refers back across its start, so
    after an edit just before it, it must be compressed again (and copying it would break the part)."""
    src = make_package(tmp_path / "src.xlsx", _sheet())
    content = _part(src)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = b"".join(
        compressor.compress(b) + compressor.flush(zlib.Z_SYNC_FLUSH) for b in _cut_points(content)
    )
    old = _with_stream(src, tmp_path / "old.xlsx", content, stream + compressor.flush())
    second = _cut_points(content)[2]
    row = int(second[second.rfind(b'<row r="') + 8 :].split(b'"')[0]) - 1  # the row before the block's last
    edits: dict[tuple[int, int], CellValue] = {(row, 3): "Reached"}
    log = _reuse_log(monkeypatch)
    patch_workbook(old, tmp_path / "new.xlsx", edits={"Queue": edits})
    patch_workbook(src, tmp_path / "expected.xlsx", edits={"Queue": edits})
    assert _part(tmp_path / "new.xlsx") == _part(tmp_path / "expected.xlsx")
    assert 0 < log[0][1] < log[0][0] - 1  # blocks far from the edit were copied, not the ones after it
    # without the checks the block after the edit would have been copied, and the part broken
    monkeypatch.setattr(blocks_module.OldBlock, "independent", lambda self: True)
    patch_workbook(old, tmp_path / "broken.xlsx", edits={"Queue": edits})
    with zipfile.ZipFile(tmp_path / "broken.xlsx") as archive, pytest.raises(zipfile.BadZipFile):
        archive.read(PART)


def test_a_marker_forged_inside_stored_data_is_not_taken_for_a_block_end(tmp_path: Path) -> None:
    forged = b"AB" + MARK + b"CD"  # the marker's bytes inside a cell, stored (not compressed)
    made = make_package(tmp_path / "made.xlsx", _sheet(3000))
    content = _part(made).replace(b"<t>ID-001500</t>", b"<t>" + forged * 300 + b"</t>")
    whole = zlib.compressobj(6, zlib.DEFLATED, -15)
    src = _with_stream(made, tmp_path / "src.xlsx", content, whole.compress(content) + whole.flush())
    pieces = _cut_points(content)
    stream = b""
    for block in pieces:
        compressor = zlib.compressobj(0 if forged in block else 6, zlib.DEFLATED, -15)
        stream += compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)
    stream += b"\x03\x00"
    assert stream.count(MARK) > len(pieces) + 100  # the forged ones
    found = OldBlocks()
    assert b"".join(inflate(stream, len(content), zlib.crc32(content), found, 1 << 16, PART)) == content
    assert found.count == len(pieces)  # only the real block ends
    old = _with_stream(src, tmp_path / "old.xlsx", content, stream)
    edits: dict[tuple[int, int], CellValue] = {(1400, 2): 7, (2999, 1): "x"}
    patch_workbook(old, tmp_path / "new.xlsx", edits={"Queue": edits})
    patch_workbook(src, tmp_path / "expected.xlsx", edits={"Queue": edits})
    assert _part(tmp_path / "new.xlsx") == _part(tmp_path / "expected.xlsx")


def _positions(stream: bytes) -> Iterator[tuple[int, bytes, zlib._Decompress]]:
    decoder = zlib.decompressobj(-15)
    out = b""
    for end in range(1, len(stream)):
        out += decoder.decompress(stream[end - 1 : end])
        yield end, out, decoder


def test_a_decoder_found_clean_can_go_on_from_a_fresh_one_given_the_window() -> None:
    """At every byte of a stream: where the probe finds a clean block boundary, a fresh decoder given
    the last 32 KiB as its dictionary decodes the rest exactly; and every sync flush is found clean."""
    data = _rows(400).encode()
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = b"".join(
        compressor.compress(data[i : i + 7000]) + compressor.flush(zlib.Z_SYNC_FLUSH)
        for i in range(0, len(data), 7000)
    )
    stream += compressor.flush()
    syncs = {at + 4 for at in range(len(stream)) if stream.startswith(MARK, at)}
    clean = set()
    for end, out, decoder in _positions(stream):
        if _clean(decoder):
            clean.add(end)
            rest = zlib.decompressobj(-15, zdict=out[-32768:]) if out else zlib.decompressobj(-15)
            assert rest.decompress(stream[end:]) == data[len(out) :], end
    assert syncs - {len(stream)} <= clean
    assert len(clean) < len(stream) // 50  # mid-block positions are not taken for boundaries


def test_a_damaged_member_is_refused_as_zipfile_would(tmp_path: Path) -> None:
    content = _sheet(200).encode()
    stream = zlib.compress(content, 6)[2:-4]
    with pytest.raises(zipfile.BadZipFile):
        list(inflate(stream, len(content), zlib.crc32(content) ^ 1, OldBlocks(), 1 << 16, PART))
    with pytest.raises(zipfile.BadZipFile):
        list(inflate(stream, len(content) - 1, zlib.crc32(content), OldBlocks(), 1 << 16, PART))
    with pytest.raises(zipfile.BadZipFile):
        list(inflate(stream[:-50], len(content), zlib.crc32(content), OldBlocks(), 1 << 16, PART))


def test_first_formula_finds_what_searching_for_the_pair_finds() -> None:
    rng = random.Random(11)
    samples = [b"", b"f", b"<f", b"f<f", b"<<ff", b"ff" * 3000 + b"<f>", b"f" * 5000, b"a<fb" + b"f" * 4000]
    samples += [bytes(rng.choice(b"<f>a") for _ in range(rng.randrange(60))) for _ in range(3000)]
    for xml in samples:
        for start in {0, 1, len(xml) // 2, max(0, len(xml) - 1)}:
            assert first_formula(xml, start) == xml.find(b"<f", start), (xml[:40], start)


@pytest.mark.parametrize(
    "kept, ahead, budget",
    [(1 << 26, 1000, 1 << 25), (1000, 1 << 24, 1 << 25), (1000, 1 << 24, 2_500_000)],
    ids=["kept-decompressed-ahead", "streamed-twice", "streamed-with-few-blocks-held"],
)
def test_big_members_streamed_or_decompressed_ahead_give_the_same_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int, ahead: int, budget: int
) -> None:
    """The other ways a member is read (decompressed on another thread; streamed afresh for each pass,
    old blocks held within a budget) reuse blocks too and write the same part."""
    src = make_package(tmp_path / "src.xlsx", _sheet(30_000))  # about 20 blocks
    patch_workbook(src, tmp_path / "one.xlsx", edits={"Queue": {(6000, 2): "first"}})
    edits: dict[tuple[int, int], CellValue] = {(3000, 3): "changed", (29000, 1): None}
    appends: list[list[CellValue]] = [["ID-new", 2.5, "Reached"]]
    changes = {"edits": {"Queue": edits}, "appends": {"Queue": appends}}
    patch_workbook(tmp_path / "one.xlsx", tmp_path / "expected.xlsx", **changes)  # type: ignore[arg-type]
    monkeypatch.setattr("callback_sheets.backends.excel.xlsx.member.KEPT", kept)
    monkeypatch.setattr("callback_sheets.backends.excel.xlsx.member.AHEAD", ahead)
    monkeypatch.setattr("callback_sheets.backends.excel.xlsx.member.BUDGET", budget)
    log = _reuse_log(monkeypatch)
    patch_workbook(tmp_path / "one.xlsx", tmp_path / "two.xlsx", **changes)  # type: ignore[arg-type]
    assert _part(tmp_path / "two.xlsx") == _part(tmp_path / "expected.xlsx")
    blocks, reused = log[0]
    assert blocks > 15 and reused >= blocks - 6
