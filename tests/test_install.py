"""Installing and setting up: package data, example-config, schedule-template, python -m, defaults that
protect patients, and the Windows-ready parts (no POSIX-only import, the runner lock without fcntl)."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from click.testing import CliRunner

from callback_sheets import oslock, resources
from callback_sheets.app.runner.lock import RunnerLock
from callback_sheets.app.schedule_files import KINDS, Install, render, this_install
from callback_sheets.cli import main
from callback_sheets.cli.doctor import run_checks
from callback_sheets.config import load_config
from callback_sheets.core.template_lint import default_templates_dir, lint_templates

ROOT = Path(__file__).resolve().parent.parent
TASK_NS = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"


def invoke(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


# -- package data ---------------------------------------------------------------------------------


def test_templates_and_example_config_are_package_data() -> None:
    shipped = default_templates_dir()
    assert shipped == ROOT / "callback_sheets" / "templates"
    assert (shipped / "en" / "voicemail.first.txt").is_file()
    assert lint_templates(shipped) == []
    assert (
        resources.example_config() == (ROOT / "callback_sheets/data/callback_sheets.example.toml").read_text()
    )
    for parts, _ in KINDS.values():
        assert resources.read_text(*parts)
    # pyproject ships every one of them in the wheel
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    pkg = ROOT / "callback_sheets"
    files = [p for p in (pkg / "templates").rglob("*") if p.is_file()] + [*(pkg / "data").glob("*")]
    for f in files:
        assert any(PurePosixPath(f.relative_to(pkg).as_posix()).match(g) for g in globs["callback_sheets"]), f


def test_example_config_prints_the_documented_example_which_loads(tmp_path: Path) -> None:
    result = invoke("example-config")
    assert result.exit_code == 0 and result.stdout == resources.example_config()
    (tmp_path / "callback_sheets.toml").write_text(result.stdout)
    config = load_config(tmp_path / "callback_sheets.toml")
    assert config.first_name_in_voicemail is False
    # -o writes a new file and never replaces one
    out = tmp_path / "new.toml"
    assert invoke("example-config", "-o", str(out)).exit_code == 0 and out.read_text() == result.stdout
    out.write_text("# the clinic's edits\n")
    again = invoke("example-config", "-o", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    assert out.read_text() == "# the clinic's edits\n"


def test_no_config_message_says_how_to_make_one(tmp_path: Path) -> None:
    result = invoke("queue", cwd=tmp_path)
    assert result.exit_code == 2
    assert "run `callback-sheets example-config > callback_sheets.toml` there" in result.output


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "callback_sheets", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "callback-sheets, version 0.1.0"
    bare = subprocess.run([sys.executable, "-m", "callback_sheets"], capture_output=True, text=True)
    assert bare.returncode == 0 and bare.stdout.startswith("Usage: callback-sheets")


# -- schedule templates -----------------------------------------------------------------------------

POSIX = Install(
    program=("/opt/clinic tools/venv/bin/callback-sheets",),
    config=PurePosixPath("/srv/Front Desk/100%/callback_sheets.toml"),
    user="frontdesk",
    group="staff",
)
WINDOWS = Install(
    program=(r"C:\Program Files\callback sheets\Scripts\callback-sheets.exe",),
    config=PureWindowsPath(r"D:\Clinic Files\Queue & Co\callback_sheets.toml"),
    user=r"CLINIC\frontdesk",
    group=r"CLINIC\frontdesk",
)


def test_cron_line_quotes_paths_for_the_shell() -> None:
    text = render("cron", POSIX)
    assert "@" not in text.replace("@NAME@", "")
    [line] = [ln for ln in text.splitlines() if ln.startswith("*/5")]
    command = line.split(" ", 5)[5].replace("\\%", "%")
    words = shlex.split(command)
    assert words[:5] == [*POSIX.program, "--config", str(POSIX.config), "run", "--once"]
    assert words[-3:] == [">>", "/srv/Front Desk/100%/callback-sheets-run.log", "2>&1"]
    assert "%" not in line.replace("\\%", "")  # cron ends the command at a bare %


def test_systemd_units_quote_and_escape() -> None:
    service = render("systemd", POSIX)
    exec_start = next(ln for ln in service.splitlines() if ln.startswith("ExecStart="))
    assert exec_start == (
        'ExecStart="/opt/clinic tools/venv/bin/callback-sheets" --config '
        '"/srv/Front Desk/100%%/callback_sheets.toml" run --once --log-json'
    )
    assert "User=frontdesk" in service and "Group=staff" in service
    assert "WorkingDirectory=/srv/Front Desk/100%%" in service
    assert 'ReadWritePaths="/srv/Front Desk/100%%"' in service and "ProtectHome=true" in service
    runner = render("systemd-runner", POSIX)
    assert "run --log-json" in runner and "--once" not in runner.split("ExecStart=")[1].splitlines()[0]
    home = Install(
        program=("/usr/bin/callback-sheets",),
        config=PurePosixPath("/home/ana/q/c.toml"),
        user="ana",
        group="ana",
    )
    assert "ProtectHome=read-only" in render("systemd", home)  # the config's folder stays reachable
    assert "OnCalendar=*:0/5" in render("systemd-timer", POSIX)
    for kind in ("systemd", "systemd-runner", "cron"):
        assert "@" not in "".join(ln for ln in render(kind, POSIX).splitlines() if not ln.startswith("#"))


def test_windows_task_xml_with_drive_letters_and_spaces() -> None:
    text = render("windows", WINDOWS)
    task = ET.fromstring(text.encode("utf-8"))
    exec_ = task.find(f"{TASK_NS}Actions/{TASK_NS}Exec")
    assert exec_ is not None
    assert exec_.findtext(f"{TASK_NS}Command") == "cmd.exe"
    assert exec_.findtext(f"{TASK_NS}WorkingDirectory") == r"D:\Clinic Files\Queue & Co"
    args = exec_.findtext(f"{TASK_NS}Arguments")
    assert args == (
        r'/d /s /c ""C:\Program Files\callback sheets\Scripts\callback-sheets.exe" "--config" '
        r'"D:\Clinic Files\Queue & Co\callback_sheets.toml" "run" "--once" '
        r'>> "D:\Clinic Files\Queue & Co\callback-sheets-run.log" 2>&1"'
    )
    assert task.findtext(f"{TASK_NS}Principals/{TASK_NS}Principal/{TASK_NS}UserId") == r"CLINIC\frontdesk"
    trigger = task.find(f"{TASK_NS}Triggers/{TASK_NS}TimeTrigger/{TASK_NS}Repetition/{TASK_NS}Interval")
    assert trigger is not None and trigger.text == "PT5M"


def test_schedule_template_command_fills_in_this_installation(tmp_path: Path) -> None:
    config = tmp_path / "my clinic" / "callback_sheets.toml"
    config.parent.mkdir()
    config.write_text(resources.example_config())
    result = invoke("schedule-template", "cron", "--config", str(config))
    assert result.exit_code == 0, result.output
    here = this_install(config)
    assert shlex.quote(here.program[0]) in result.stdout and shlex.quote(str(config)) in result.stdout
    assert Path(here.program[0]).exists()
    out = tmp_path / "task.xml"
    assert invoke("schedule-template", "windows", "-o", str(out), "--config", str(config)).exit_code == 0
    raw = out.read_bytes()
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")  # UTF-16 with its byte-order mark, as Task Scheduler wants
    text = raw.decode("utf-16")
    assert 'encoding="UTF-16"' in text and "\r\n" in text
    ET.fromstring(raw)  # the declared encoding matches the bytes


def test_schedule_template_names_the_config_even_before_it_exists(tmp_path: Path) -> None:
    result = invoke("schedule-template", "systemd", cwd=tmp_path)
    assert result.exit_code == 0
    assert str(tmp_path / "callback_sheets.toml") in result.stdout
    assert "no config at" in result.stderr


# -- defaults that protect patients -----------------------------------------------------------------


def test_first_name_in_voicemail_defaults_to_false(tmp_path: Path) -> None:
    demo = tmp_path / "d"
    assert invoke("demo", str(demo), "--now", "2026-12-04T15:00").exit_code == 0
    text = (demo / "callback_sheets.toml").read_text()
    assert "first_name_in_voicemail" not in text or "first_name_in_voicemail = false" in text
    assert load_config(demo / "callback_sheets.toml").first_name_in_voicemail is False
    records = json.loads(invoke("queue", "--json", "--now", "2026-12-04T15:00", cwd=demo).stdout)
    named = next(r for r in records if r["first_name"])
    voicemail = invoke("script", named["id"], "--voicemail", "--json", cwd=demo)
    assert named["first_name"] not in json.loads(voicemail.stdout)["text"]
    (demo / "callback_sheets.toml").write_text(
        text.replace("[queue]", "[queue]\nfirst_name_in_voicemail = true")
    )
    allowed = invoke("script", named["id"], "--voicemail", "--json", cwd=demo)
    assert named["first_name"] in json.loads(allowed.stdout)["text"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_doctor_permission_warnings(tmp_path: Path) -> None:
    from callback_sheets.cli.doctor import check_private, names_a_secret

    key = tmp_path / "sa.json"
    key.write_text("{}")
    key.chmod(0o644)
    [warn] = check_private(key, "the service-account key")
    assert warn.ok and warn.level == "warn"
    assert f"run `chmod 600 {key}`" in warn.detail and "every user" in warn.detail
    assert warn.line().startswith("WARN  permissions:")
    key.chmod(0o640)
    [group] = check_private(key, "the key")
    assert "its group" in group.detail and "every user" not in group.detail
    key.chmod(0o600)
    assert check_private(key, "the key") == []
    assert names_a_secret({"notify": {"email": {"smtp_password": "x"}}}) == "notify.email.smtp_password"
    assert names_a_secret({"notify": {"email": {"smtp_password": ""}}}) is None
    assert names_a_secret({"clinic": {"name": "Riverside"}}) is None
    assert names_a_secret({"webhooks": [{"url": "u", "token": "t"}]}) == "webhooks.token"
    # a config naming a password, readable by others: doctor says so (and stays exit 0 for a warning)
    clinic = tmp_path / "clinic"
    assert invoke("demo", str(clinic), "--now", "2026-12-04T15:00").exit_code == 0
    cfg = clinic / "callback_sheets.toml"
    raw = tomllib.loads(cfg.read_text())
    cfg.write_text(cfg.read_text() + '\n[extra_for_test]\nsmtp_password = "hunter2"\n')
    assert "extra_for_test" not in raw
    lines = [c.line() for c in run_checks(str(cfg))]
    assert any(
        ln.startswith("WARN  permissions: the config (it holds extra_for_test.smtp_password)") for ln in lines
    )


def test_gspread_default_key_path_is_used_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    config = tmp_path / "callback_sheets.toml"
    config.write_text(
        resources.example_config().replace('backend = "excel"', 'backend = "google"')
        + '\n[google]\nspreadsheet = "1abc"\n'
    )
    from callback_sheets.backends.google.doctor import check_google

    missing = check_google(load_config(config).google)
    assert not missing[0].ok and "gspread's default" in missing[0].detail
    key = home / ".config" / "gspread" / "service_account.json"
    key.parent.mkdir(parents=True)
    key.write_text(json.dumps({"type": "service_account", "client_email": "bot@x.iam.gserviceaccount.com"}))
    key.chmod(0o600)
    google = load_config(config).google
    assert google is not None and google.credentials == key
    found = check_google(google, connect=_refuse)
    assert found[0].ok and "gspread's default key path" in found[0].detail


def _refuse(_google: object) -> object:
    from callback_sheets.errors import BackendError

    raise BackendError("not connecting in this test")


# -- Windows-ready: no fcntl ------------------------------------------------------------------------

BLOCKER = textwrap.dedent(
    """
    import sys

    class _NoPosixOnly:
        # Makes the named modules unimportable, as on Windows.
        blocked = {"fcntl", "termios", "pwd", "grp", "resource"}

        def find_spec(self, name, path=None, target=None):
            if name in self.blocked:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked for this test)", name=name)
            return None

    sys.meta_path.insert(0, _NoPosixOnly())
    for _name in list(_NoPosixOnly.blocked):
        sys.modules.pop(_name, None)
    """
)

LOCK_CHECK = textwrap.dedent(
    """
    import importlib, json, pkgutil, subprocess, sys
    from pathlib import Path
    import callback_sheets
    for found in pkgutil.walk_packages(callback_sheets.__path__, "callback_sheets."):  # every module
        importlib.import_module(found.name)
    from callback_sheets import oslock
    from callback_sheets.errors import WorkbookBusyError
    from callback_sheets.app.runner.loop import RunnerLock
    assert "fcntl" not in sys.modules, "fcntl was imported"
    path = Path(sys.argv[1])
    first = RunnerLock(path, queue="Main")
    first.acquire()
    second = RunnerLock(path, queue="Main")
    try:
        second.acquire()
    except WorkbookBusyError as exc:
        same_process = str(exc)
    else:
        raise SystemExit("a second lock in the same process was granted")
    child = [sys.executable, "-c", (
        "from pathlib import Path; import sys; from callback_sheets.app.runner.loop import RunnerLock; "
        "from callback_sheets.errors import WorkbookBusyError\\n"
        "try:\\n RunnerLock(Path(sys.argv[1]), queue='Main').acquire()\\n"
        "except WorkbookBusyError as e:\\n print(e); sys.exit(1)"), str(path)]
    held = subprocess.run(child, capture_output=True, text=True)
    first.release()
    freed = subprocess.run(child, capture_output=True, text=True)
    print(json.dumps({"mechanism": oslock.mechanism().name, "same_process": same_process,
                      "held": [held.returncode, held.stdout], "freed": [freed.returncode, freed.stderr]}))
    """
)


def _blocked_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_without_fcntl_the_package_imports_and_the_runner_lock_works(tmp_path: Path) -> None:
    env = _blocked_env(tmp_path)
    proof = subprocess.run([sys.executable, "-c", "import fcntl"], env=env, capture_output=True, text=True)
    assert proof.returncode == 1 and "blocked for this test" in proof.stderr
    (tmp_path / "dir with space").mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", LOCK_CHECK, str(tmp_path / "dir with space" / ".runner.lock")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["mechanism"] == "lockf"
    assert "another callback-sheets runner is already serving queue 'Main'" in result["same_process"]
    assert result["held"][0] == 1 and "already serving" in result["held"][1], result
    assert "pid" in result["held"][1]  # the holder's note is readable while it is locked
    assert result["freed"][0] == 0, result


@pytest.mark.slow
def test_runner_suite_passes_without_fcntl(tmp_path: Path) -> None:
    """The runner's own tests (locks, a crash, a second runner, SIGTERM) with fcntl unimportable."""
    env = _blocked_env(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "tests/test_runner.py",
            "tests/test_run_cli.py",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


# -- the lock mechanisms, each through the small interface --------------------------------------------


@pytest.mark.parametrize("mech", [m for m in oslock.available()], ids=lambda m: m.name)
def test_each_lock_mechanism_excludes_other_processes(mech: oslock.Mechanism, tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    assert mech.lock(fd)
    other = os.open(path, os.O_RDWR)
    if mech.name != "lockf":  # lockf belongs to the process: the table in oslock answers for it
        assert not mech.lock(other)
    probe = (
        "import os, sys; from callback_sheets import oslock; "
        "m = {x.name: x for x in oslock.available()}[sys.argv[2]]; "
        "fd = os.open(sys.argv[1], os.O_RDWR); sys.exit(0 if m.lock(fd) else 3)"
    )
    args = [sys.executable, "-c", probe, str(path), mech.name]
    assert subprocess.run(args, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 3
    mech.close(other)
    assert subprocess.run(args, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 3  # still held
    mech.unlock(fd)
    assert subprocess.run(args, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode == 0
    os.close(fd)


def test_lockf_refused_descriptor_does_not_drop_the_lock(tmp_path: Path) -> None:
    mech = next((m for m in oslock.available() if m.name == "lockf"), None)
    if mech is None:
        pytest.skip("os.lockf is POSIX-only")
    path = tmp_path / "x.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    assert mech.lock(fd)
    other = os.open(path, os.O_RDWR)
    assert not mech.lock(other)  # same process: refused by the table
    mech.close(other)  # parked, not closed: closing it would drop the process's lock
    probe = (
        "import os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n os.lockf(fd, os.F_TLOCK, 0)\nexcept OSError:\n sys.exit(3)"
    )
    assert subprocess.run([sys.executable, "-c", probe, str(path)]).returncode == 3
    mech.unlock(fd)
    os.close(fd)
    assert subprocess.run([sys.executable, "-c", probe, str(path)]).returncode == 0


def test_runner_lock_file_keeps_the_holder_note(tmp_path: Path) -> None:
    lock = RunnerLock(tmp_path / "a b.lock", queue="Main")
    lock.acquire()
    try:
        note = json.loads((tmp_path / "a b.lock").read_text())
        assert note["pid"] == os.getpid() and note["queue"] == "Main"
        assert stat.S_ISREG((tmp_path / "a b.lock").stat().st_mode)
    finally:
        lock.release()


def test_pid_alive_without_signalling_it() -> None:
    assert oslock.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not oslock.pid_alive(child.pid)
