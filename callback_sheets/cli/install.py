"""Setting up a clinic from an installed package: `example-config` and `schedule-template`."""

from __future__ import annotations

from pathlib import Path

import click

from callback_sheets.cli.render import say
from callback_sheets.cli.state import State
from callback_sheets.errors import UsageError


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file; never replace one that is there (it may be the clinic's edited copy)."""
    try:
        with open(path, "xb") as f:
            f.write(data)
    except FileExistsError:
        raise UsageError(f"{path} already exists: remove it first, or choose another name") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


@click.command("example-config")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it to this new file."
)
def example_config_cmd(output: Path | None) -> None:
    """Print the example config: every key, documented, with its default.

    The first step for a new clinic: save it as callback_sheets.toml beside where the workbook should
    live, edit it, then run `callback-sheets init`.

    \b
    Example:
        callback-sheets example-config > callback_sheets.toml
    """
    from callback_sheets.resources import example_config

    text = example_config()
    if output is None:
        click.echo(text, nl=False)
        return
    _write_new(output, text.encode("utf-8"))
    say(f"wrote {output}: edit it, then run `callback-sheets --config {output} init`")


@click.command("schedule-template")
@click.argument("kind", type=click.Choice(["cron", "systemd", "systemd-timer", "systemd-runner", "windows"]))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it to this new file (for windows: UTF-16, as Task Scheduler wants).",
)
@click.pass_obj
def schedule_template_cmd(state: State, kind: str, output: Path | None) -> None:
    """Print a ready cron, systemd or Windows Task Scheduler file that runs `run --once` every 5 minutes,
    with this installation's program and config paths filled in.

    KIND: cron (a crontab line), systemd (the one-shot .service), systemd-timer (its .timer),
    systemd-runner (the long-running service instead), windows (Task Scheduler XML). The config is
    --config, $CALLBACK_SHEETS_CONFIG or ./callback_sheets.toml, as for every command.

    \b
    Examples:
        callback-sheets --config /srv/clinic/callback_sheets.toml schedule-template cron
        (crontab -l; callback-sheets schedule-template cron) | crontab -    # add it to yours
        callback-sheets schedule-template windows -o callback-sheets.xml
    """
    from callback_sheets.app.schedule_files import render, this_install
    from callback_sheets.config import find_config_path

    config = find_config_path(state.config_path)
    if not config.exists():
        say(f"note: there is no config at {config} yet; the file names it anyway")
    install = this_install(config)
    if output is None:
        click.echo(render(kind, install), nl=False)
        return
    if kind == "windows":
        text = render(kind, install, encoding="UTF-16").replace("\r\n", "\n").replace("\n", "\r\n")
        _write_new(output, text.encode("utf-16"))  # with its byte-order mark
    else:
        _write_new(output, render(kind, install).encode("utf-8"))
    say(f"wrote {output}")
