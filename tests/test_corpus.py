"""`init` then `refresh` over real-world workbooks: nothing of theirs rewritten (see corpus_check).

CI runs a fixed sample: the first file of every producer and of every feature in the manifest, the
workbooks on the 1904 date system, one without styles.xml, the files that used to crash `init` (pivot
tables, a chartsheet, an empty ``s=`` attribute), and the hostile ones. ``make corpus`` runs all 256.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from tests.corpus_check import CORPUS, check, check_upgrade, libreoffice_opens, run, summary

pytestmark = pytest.mark.skipif(
    not (CORPUS / "manifest.json").exists(), reason=f"the xlsx corpus is not at {CORPUS}"
)

EXTRA = (
    "113_test_files_1904.xlsx",
    "228_calamine_date_1904.xlsx",  # 1904 date system
    "197_exceljs_test-issue-771.xlsx",  # no styles.xml (its relationship points at nothing)
    "240_calamine_pivots.xlsx",
    "219_exceljs_chart-sheet.xlsx",
    "247_calamine_empty_s_attribute.xlsx",
)
HOSTILE = (
    "142_poi_poc-shared-strings.xlsx",
    "143_poi_poc-xmlbomb-empty.xlsx",
    "144_poi_poc-xmlbomb.xlsx",
    "212_exceljs_invalid-xml.xlsx",
)


def sample() -> list[str]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    seen: set[tuple[str, str]] = set()
    files = []
    for entry in manifest:
        keys = {("producer", entry["producer"]), *(("feature", f) for f in entry["feats"])}
        if keys - seen:
            files.append(entry["file"])
            seen |= keys
    return sorted({*files, *EXTRA})


@pytest.mark.parametrize("name", sample() if (CORPUS / "manifest.json").exists() else [])
def test_init_and_refresh_leave_their_workbook_intact(name: str, tmp_path: Path) -> None:
    outcome = check(CORPUS / name, tmp_path)
    assert outcome.status == "intact", outcome.detail


@pytest.mark.parametrize("name", sample() if (CORPUS / "manifest.json").exists() else [])
def test_init_adds_the_rules_to_a_queue_that_lacks_them(name: str, tmp_path: Path) -> None:
    outcome = check_upgrade(CORPUS / name, tmp_path)
    assert outcome.status == "intact", outcome.detail


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_in_one_line(name: str, tmp_path: Path) -> None:
    outcome = check(CORPUS / name, tmp_path)
    assert outcome.status == "refused", outcome.detail
    assert outcome.seconds < 5 and "\n" not in outcome.detail
    assert (tmp_path / "book.xlsx").read_bytes() == (CORPUS / name).read_bytes()  # nothing written


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["005_XlsxWriter_chart_area01.xlsx", "146_poi_56644.xlsx"])
def test_libreoffice_opens_the_result(name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="corpus-lo-") as tmp:
        outcome = check(CORPUS / name, Path(tmp))
        assert outcome.status == "intact", outcome.detail
        assert libreoffice_opens(Path(tmp) / "book.xlsx", Path(tmp)) is None


def test_summary_counts() -> None:
    outcomes = run(
        [CORPUS / n for n in ("001_XlsxWriter_array_formula01.xlsx", "143_poi_poc-xmlbomb-empty.xlsx")]
    )
    assert summary(outcomes) == "2 files: 1 intact, 1 refused cleanly, 0 damaged"
