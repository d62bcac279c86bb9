"""Ready-to-install scheduler files (cron, systemd, Windows Task Scheduler) with this installation's
paths filled in: ``callback-sheets schedule-template KIND``.

The shipped files (``templates/cron``, ``templates/systemd``, ``templates/windows``) hold ``@NAME@``
markers; :func:`render` replaces them, quoting each path the way that file's format wants it (a POSIX
shell for cron, systemd's own quoting and ``%`` specifiers, cmd.exe inside XML for Task Scheduler), so
paths with spaces and drive letters come out right. Pure: the paths come in an :class:`Install`.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from xml.sax.saxutils import escape

from callback_sheets.resources import read_text

# kind -> (shipped file, suggested file name)
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "cron": (("templates", "cron", "crontab.example"), "crontab"),
    "systemd": (("templates", "systemd", "callback-sheets.service"), "callback-sheets.service"),
    "systemd-timer": (("templates", "systemd", "callback-sheets.timer"), "callback-sheets.timer"),
    "systemd-runner": (
        ("templates", "systemd", "callback-sheets-runner.service"),
        "callback-sheets-runner.service",
    ),
    "windows": (("templates", "windows", "callback-sheets.xml"), "callback-sheets.xml"),
}
_HOME_ROOTS = ("/home", "/root", "/run/user")


@dataclass(frozen=True, slots=True)
class Install:
    """Where this installation lives: the command that starts callback-sheets, the config it serves."""

    program: tuple[str, ...]  # argv prefix: ("/opt/venv/bin/callback-sheets",) or (python, "-m", ...)
    config: PurePath  # absolute
    user: str
    group: str

    @property
    def folder(self) -> PurePath:
        return self.config.parent

    @property
    def log(self) -> PurePath:
        return self.folder / "callback-sheets-run.log"


def this_install(config: Path, *, windows: bool | None = None) -> Install:
    """The running installation: its console script (or ``python -m callback_sheets``) and ``config``."""
    windows = os.name == "nt" if windows is None else windows
    scripts = Path(sys.executable).parent
    script = scripts / ("callback-sheets.exe" if windows else "callback-sheets")
    found = str(script) if script.exists() else shutil.which("callback-sheets")
    program = (str(Path(found).absolute()),) if found else (sys.executable, "-m", "callback_sheets")
    user = _user(windows)
    group = user
    if not windows:
        try:
            import grp

            group = grp.getgrgid(os.getgid()).gr_name
        except (ImportError, KeyError, OSError):
            group = user
    return Install(program=program, config=config.absolute(), user=user, group=group)


def _user(windows: bool) -> str:
    name = os.environ.get("USERNAME", "") if windows else ""
    try:
        name = name or getpass.getuser()
    except (OSError, KeyError, ImportError):
        name = name or "callback"
    domain = os.environ.get("USERDOMAIN", "") if windows else ""
    return f"{domain}\\{name}" if domain else name


def render(kind: str, install: Install, *, encoding: str = "UTF-8") -> str:
    """The file for ``kind`` (one of :data:`KINDS`) with ``install``'s paths filled in."""
    parts, _ = KINDS[kind]
    text = read_text(*parts)
    if kind == "cron":
        values = _cron(install)
    elif kind == "windows":
        values = _windows(install, encoding)
    else:
        values = _systemd(install)
        if str(install.folder).startswith(_HOME_ROOTS):
            # ProtectHome=true would hide the config's folder; read-only + ReadWritePaths lets it through.
            text = text.replace("ProtectHome=true", "ProtectHome=read-only")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def _cron(install: Install) -> dict[str, str]:
    def sh(*words: str) -> str:
        return " ".join(shlex.quote(w) for w in words).replace("%", "\\%")  # cron: % ends the command

    return {"COMMAND": sh(*install.program), "CONFIG": sh(str(install.config)), "LOG": sh(str(install.log))}


def _systemd_word(word: str) -> str:
    word = word.replace("%", "%%")
    if any(ch.isspace() for ch in word) or '"' in word or "\\" in word:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def _systemd(install: Install) -> dict[str, str]:
    command = [*install.program, "--config", str(install.config)]
    return {
        "COMMAND": " ".join(_systemd_word(w) for w in command),
        "USER": install.user,
        "GROUP": install.group,
        "WORKDIR": str(install.folder).replace("%", "%%"),  # the rest of the line, taken literally
        "ENVIRONMENT": _systemd_word(f"CALLBACK_SHEETS_CONFIG={install.config}"),
        "READWRITE": _systemd_word(str(install.folder)),
    }


def _windows(install: Install, encoding: str) -> dict[str, str]:
    # cmd.exe /s /c "<line>": with /s cmd strips the outer quotes and runs the line as typed, so every
    # path keeps its own quotes (spaces, drive letters) and the log redirection works.
    words = [*install.program, "--config", str(install.config), "run", "--once"]
    line = " ".join(f'"{w}"' for w in words) + f' >> "{install.log}" 2>&1'
    return {
        "ENCODING": encoding,
        "USER": escape(install.user),
        "SHELL": "cmd.exe",
        "ARGUMENTS": escape(f'/d /s /c "{line}"'),
        "WORKDIR": escape(str(install.folder)),
    }


__all__ = ["KINDS", "Install", "render", "this_install"]
