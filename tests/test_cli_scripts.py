"""`script` and `lint-templates` through the CLI, on a real workbook and template folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from callback_sheets.cli import main
from callback_sheets.core.template_lint import default_templates_dir
from tests.conftest import row


def invoke(*args: str, config_path: Path) -> object:
    return CliRunner().invoke(main, ["--config", str(config_path), *args], catch_exceptions=False)


def test_script_for_a_spanish_caller_and_voicemail_privacy(config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue(
        [
            row(
                "2026-12-01 09:10",
                Caller="Sofía García",
                Language="Spanish",
                Reason="Billing",
                Notes="pregunta por la factura",
            )
        ]
    )
    invoke("refresh", "--now", "2026-12-01T10:00", config_path=config.path)
    call = json.loads(invoke("script", "CB-00001", "--json", config_path=config.path).stdout)
    assert call["language"] == "es" and "Sofía" in call["text"] and not call["fell_back_to_english"]
    vm = json.loads(invoke("script", "CB-00001", "--voicemail", "--json", config_path=config.path).stdout)
    assert vm["mode"] == "voicemail"
    for secret in ("Billing", "factura", "García"):
        assert secret not in vm["text"]


def test_lint_templates_refuses_a_planted_violation(tmp_path: Path) -> None:
    mine = tmp_path / "templates"
    shutil.copytree(default_templates_dir(), mine, ignore=shutil.ignore_patterns("systemd", "cron*"))
    assert CliRunner().invoke(main, ["lint-templates", str(mine)]).exit_code == 0
    vm = mine / "en" / "voicemail.first.txt"
    vm.write_text(vm.read_text() + "We are calling about your {reason} and your test results.\n")
    result = CliRunner().invoke(main, ["lint-templates", str(mine)])
    assert result.exit_code == 1
    assert "voicemail.first.txt" in result.stdout and "{reason}" in result.stdout
