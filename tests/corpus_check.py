"""`init` then `refresh` on every workbook of the real-world corpus, and what they left of it.

For each file (copied to a temporary folder): `init`, one queue row added, `refresh`; then the packages
are compared part by part. Every part of the original must be byte-identical in the result, except the
few package parts that list the new tabs (workbook.xml, [Content_Types].xml, the workbook's rels,
styles.xml, docProps/app.xml), and those may only gain: their original markup, token by token, is kept in
order (count and size attributes may change). The result must pass a zip test and open with
python-calamine, and with openpyxl (read-only: a full load of some originals takes minutes) when the
original does. A file is *intact* when all that holds,
*refused* when `init` stopped with one clear line in a few seconds, *damaged* otherwise.

Run all of it with ``make corpus`` (``python -m tests.corpus_check [--libreoffice N] [FILE...]``);
``tests/test_corpus.py`` runs a fixed sample in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "xlsx-corpus"
TIME_LIMIT = 60
REFUSE_WITHIN = 5.0
ADDITIVE = (
    "xl/workbook.xml",
    "[Content_Types].xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "docProps/app.xml",
)
NOW = datetime(2026, 12, 1, 10, 0)
_TOKEN = re.compile(rb"<[^>]*>|[^<]+")
_NUMBERS = re.compile(rb"\d+")

TOML = """
[clinic]
name = "Corpus Clinic"
timezone = "America/Chicago"

[queue]
workbook = "{name}"
"""
TOML_TABS = ""  # the [queue] table is last in TOML: a tabs line added at the end belongs to it


@dataclass(frozen=True, slots=True)
class Outcome:
    file: str
    status: str  # "intact", "refused", "damaged"
    detail: str
    seconds: float


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout


def check(source: Path, folder: Path, *, tabs: str = "") -> Outcome:
    """One file through init, an added row, refresh and a second refresh; a tab-name clash is answered
    the way the message says (``[queue] tabs``), as a clinic would."""
    from callback_sheets.app import service
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.cells import Changeset
    from callback_sheets.config import load_config
    from callback_sheets.errors import CallbackSheetsError

    workbook = folder / "book.xlsx"
    shutil.copyfile(source, workbook)
    (folder / "callback_sheets.toml").write_text(TOML.format(name=workbook.name) + tabs, encoding="utf-8")
    config = load_config(folder / "callback_sheets.toml")
    backend = ExcelBackend(config.workbook, tabs=config.tabs)
    start = time.monotonic()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        try:
            service.init(config=config, backend=backend)
        except CallbackSheetsError as exc:
            took = time.monotonic() - start
            line = str(exc)
            if "\n" in line or took > REFUSE_WITHIN:
                return Outcome(source.name, "damaged", f"refused badly ({took:.1f} s): {line}", took)
            if "[queue] tabs" in line and not tabs:
                signal.alarm(0)
                renamed = 'tabs = { lists = "Callback lists", history = "Callback history" }\n'
                again = check(source, folder, tabs=TOML_TABS + renamed)
                return Outcome(
                    source.name, again.status, f"after [queue] tabs: {again.detail}", again.seconds
                )
            return Outcome(source.name, "refused", line, took)
        with backend.session():
            row = {
                "Received": NOW.replace(hour=9),
                "Caller": "Test Caller",
                "Phone": "(312) 555-0199",
                "Reason": "New appointment",
            }
            backend.write(backend.read(), Changeset(new_rows=[row]))
        service.refresh(config=config, backend=backend, now=NOW.replace(tzinfo=config.tz))
        second = workbook.read_bytes()
        service.refresh(config=config, backend=backend, now=NOW.replace(tzinfo=config.tz))
        if workbook.read_bytes() != second:
            return Outcome(
                source.name, "damaged", "a second refresh changed the file", time.monotonic() - start
            )
    except _Timeout:
        return Outcome(source.name, "damaged", f"ran past {TIME_LIMIT} s", time.monotonic() - start)
    except Exception as exc:  # anything else is a crash: damaged
        return Outcome(source.name, "damaged", f"{type(exc).__name__}: {exc}"[:300], time.monotonic() - start)
    finally:
        signal.alarm(0)
    took = time.monotonic() - start
    problems = compare(source, workbook) + validate(source, workbook)
    if problems:
        return Outcome(source.name, "damaged", "; ".join(problems)[:500], took)
    return Outcome(source.name, "intact", backend.last_write_path, took)


def check_upgrade(source: Path, folder: Path, *, tabs: str = "") -> Outcome:
    """A Queue that exists without the tool's rules: the file first gains a bare Queue tab (the full
    header in reverse order, as staff may have reordered it, no dropdowns or colour rules) through the
    patcher; then `init` must add the dropdowns and colour rules to it by header name and change nothing
    else in it (every token before kept in order, every cell as it was), every other part as `check`
    asks; a second `init` finds it up to date."""
    from callback_sheets import model
    from callback_sheets.app import service
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.backends.excel.init import tabs_package
    from callback_sheets.backends.excel.xlsx.patch import Graft, PatchRefused, patch_workbook
    from callback_sheets.config import load_config
    from callback_sheets.errors import CallbackSheetsError
    from callback_sheets.layout import TabSpec

    staged = folder / "staged.xlsx"
    workbook = folder / "book.xlsx"
    start = time.monotonic()
    header = tuple(reversed(model.REQUIRED_COLUMNS))
    try:
        donor = tabs_package([TabSpec(model.QUEUE_TAB, header)])
        patch_workbook(source, staged, graft=Graft(donor, [model.QUEUE_TAB]))
    except (PatchRefused, ValueError) as exc:
        return Outcome(source.name, "refused", f"not staged: {exc}", time.monotonic() - start)
    shutil.copyfile(staged, workbook)
    text = TOML.format(name=workbook.name) + tabs
    (folder / "callback_sheets.toml").write_text(text, encoding="utf-8")
    config = load_config(folder / "callback_sheets.toml")
    backend = ExcelBackend(config.workbook, tabs=config.tabs)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        try:
            notes = service.init(config=config, backend=backend)
        except CallbackSheetsError as exc:
            if "[queue] tabs" in str(exc) and not tabs:
                signal.alarm(0)
                renamed = 'tabs = { lists = "Callback lists", history = "Callback history" }\n'
                return check_upgrade(source, folder, tabs=TOML_TABS + renamed)
            return Outcome(source.name, "refused", str(exc), time.monotonic() - start)
        if f"added dropdowns and colour rules to {model.QUEUE_TAB}" not in notes:
            return Outcome(source.name, "damaged", f"no rules added: {notes}", time.monotonic() - start)
        again = service.init(config=config, backend=backend)
        if again != [f"{workbook.name} is up to date"]:
            return Outcome(source.name, "damaged", f"a second init: {again}", time.monotonic() - start)
    except _Timeout:
        return Outcome(source.name, "damaged", f"ran past {TIME_LIMIT} s", time.monotonic() - start)
    except Exception as exc:
        return Outcome(source.name, "damaged", f"{type(exc).__name__}: {exc}"[:300], time.monotonic() - start)
    finally:
        signal.alarm(0)
    problems = []
    with zipfile.ZipFile(staged) as before, zipfile.ZipFile(workbook) as after:
        queue_part = _sheet_part(before, model.QUEUE_TAB)
        for problem in compare(staged, workbook):
            if problem != f"{queue_part} rewritten":
                problems.append(problem)
        old, new = before.read(queue_part), after.read(queue_part)
        if old.split(b"</sheetData>")[0] != new.split(b"</sheetData>")[0]:
            problems.append("the Queue's cells changed")
        lost = _not_additive(old, new)
        if lost:
            problems.append(f"{queue_part}: {lost}")
        if b"<dataValidations" not in new or b"<conditionalFormatting" not in new:
            problems.append("the Queue has no rules")
        if after.testzip() is not None:
            problems.append("zip test failed")
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(workbook))
        book.get_sheet_by_name(model.QUEUE_TAB).to_python()
        book.close()
    except Exception as exc:
        problems.append(f"python-calamine: {type(exc).__name__}: {exc}"[:200])
    took = time.monotonic() - start
    if problems:
        return Outcome(source.name, "damaged", "; ".join(problems)[:500], took)
    return Outcome(source.name, "intact", "rules added", took)


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    """The part name of a sheet (by its name in workbook.xml), found through the workbook's rels."""
    import posixpath

    from callback_sheets.backends.excel.xlsx.package import Package

    package = Package(archive)
    part = package.sheet_part(sheet)
    return next(n for n in archive.namelist() if n.lower() == posixpath.normpath(part).lower())


def compare(original: Path, result: Path) -> list[str]:
    """What the result lost or rewrote of the original's parts."""
    problems: list[str] = []
    with zipfile.ZipFile(original) as before, zipfile.ZipFile(result) as after:
        names = {n.lower(): n for n in after.namelist()}
        kept_order = [n for n in after.namelist() if n in set(before.namelist())]
        if kept_order != [n for n in before.namelist() if n in set(after.namelist())]:
            problems.append("members reordered")
        for info in before.infolist():
            name = info.filename
            if name.lower() not in names:
                problems.append(f"{name} dropped")
                continue
            old, new = before.read(info), after.read(names[name.lower()])
            if old == new:
                continue
            if name.lower() in {a.lower() for a in ADDITIVE} or name.lower().endswith("styles.xml"):
                lost = _not_additive(old, new)
                if lost:
                    problems.append(f"{name}: {lost}")
            else:
                problems.append(f"{name} rewritten")
    return problems


def _not_additive(old: bytes, new: bytes) -> str | None:
    """None when ``new`` is ``old`` with markup inserted: every old token found, in order, among the new
    ones (greedily, which finds such an embedding whenever there is one); count and size attributes, and
    the numbers docProps/app.xml counts titles with, may differ."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    at = 0
    for index, token in enumerate(a):
        key = _counts_blind(token)
        while at < len(b) and _counts_blind(b[at]) != key and not _opened(token, b[at]):
            at += 1
        if at == len(b):
            return f"lost or changed {b''.join(a[index : index + 3])[:80]!r}"
        at += 1
    return None


_COUNT_ATTR = re.compile(rb"""(\s(?:count|size)=["'])\d+""")


def _counts_blind(token: bytes) -> bytes:
    if token.isdigit():
        return b"#"
    return _COUNT_ATTR.sub(rb"\1#", token) if token.startswith(b"<") else token


def _opened(old: bytes, new: bytes) -> bool:
    """``<x/>`` opened as ``<x>`` to hold new children."""
    return old.endswith(b"/>") and _counts_blind(old[:-2].rstrip()) == _counts_blind(new[:-1].rstrip())


def validate(original: Path, result: Path) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(result) as archive:
        bad = archive.testzip()
        if bad is not None:
            problems.append(f"zip test failed on {bad}")
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(result))
        for name in book.sheet_names:
            if name in ("Queue", "History", "Lists"):
                book.get_sheet_by_name(name).to_python()
        book.close()
    except Exception as exc:
        problems.append(f"python-calamine: {type(exc).__name__}: {exc}"[:200])
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            openpyxl.load_workbook(original, read_only=True).close()
        except Exception:
            return problems  # openpyxl cannot read the original either: not ours to judge
        try:
            wb = openpyxl.load_workbook(result, read_only=True)  # full loads of some originals take minutes
            if "Queue" not in wb.sheetnames or next(wb["Queue"].iter_rows(values_only=True))[0] != "ID":
                problems.append("openpyxl does not see the Queue header")
            wb.close()
        except Exception as exc:
            problems.append(f"openpyxl: {type(exc).__name__}: {exc}"[:200])
    return problems


def libreoffice_opens(result: Path, folder: Path, timeout: float = 300) -> str | None:
    """None when LibreOffice converts the workbook (all of it) to PDF; otherwise what went wrong. It runs
    in its own process group, ended whole on a timeout (soffice.bin outlives its launcher otherwise)."""
    out = folder / "pdf"
    profile = folder / "lo-profile"
    command = [
        "soffice",
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        str(result),
    ]
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    except OSError as exc:
        return f"LibreOffice: {exc}"
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return f"LibreOffice did not finish within {timeout:.0f} s"
    pdf = out / (result.stem + ".pdf")
    return None if pdf.exists() and pdf.stat().st_size > 0 else "LibreOffice produced no PDF"


def run(
    files: list[Path], libreoffice: int = 0, *, progress: bool = False, upgrade: bool = False
) -> list[Outcome]:
    outcomes = []
    for index, source in enumerate(files):
        if progress:
            print(f"{index + 1}/{len(files)} {source.name}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
            outcome = (check_upgrade if upgrade else check)(source, Path(tmp))
            if outcome.status == "intact" and index < libreoffice and shutil.which("soffice"):
                problem = libreoffice_opens(Path(tmp) / "book.xlsx", Path(tmp))
                if problem and libreoffice_opens(source, Path(tmp) / "original") is None:
                    outcome = Outcome(outcome.file, "damaged", problem, outcome.seconds)
                elif problem:  # LibreOffice cannot convert the original either: not ours to judge
                    outcome = Outcome(
                        outcome.file, "intact", f"{outcome.detail}; {problem} (original too)", outcome.seconds
                    )
        outcomes.append(outcome)
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    counts = Counter(o.status for o in outcomes)
    return (
        f"{len(outcomes)} files: {counts['intact']} intact, {counts['refused']} refused cleanly, "
        f"{counts['damaged']} damaged"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--libreoffice", type=int, default=0, help="open the first N results in LibreOffice")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--progress", action="store_true", help="name each file on stderr as it starts")
    parser.add_argument(
        "--upgrade",
        action="store_true",
        help="give each file a bare Queue first, then check init adds its rules",
    )
    args = parser.parse_args(argv)
    files = args.files or sorted(p for p in CORPUS.glob("*.xlsx"))
    if not files:
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    outcomes = run(files, args.libreoffice, progress=args.progress, upgrade=args.upgrade)
    for o in outcomes:
        if args.json:
            print(json.dumps(o.__dict__))
        elif o.status != "intact":
            print(f"{o.status:8} {o.file}: {o.detail}")
    print(summary(outcomes), f"(slowest {max(o.seconds for o in outcomes):.1f} s)")
    return 1 if any(o.status == "damaged" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
