"""The Scripts tab: every call script as a block the sheet can link to, and which block a row needs.

One block per template language x reason script x first/later attempt, holding the live call, the
voicemail, the secure message and the do-not-say list, rendered by :func:`scripts.render_script` (so the
same templates and the same privacy lint as `callback-sheets script`) with no caller in it: the
first-name placeholder is left blank and "[your name]" stays for the person calling. A queue row's
Script cell names its block (:func:`block_label`) and links to the block's first row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from callback_sheets import model
from callback_sheets.core.script_keys import LANGUAGE_NAMES, REASON_SCRIPTS, Key, block_keys
from callback_sheets.core.script_stamp import stamp
from callback_sheets.core.scripts import RenderedScript, render_script
from callback_sheets.core.template_lint import default_templates_dir, languages_in

TAB = model.SCRIPTS_TAB
HEADER = ("Script", "What to say")
_STEMS = {  # script file stem -> how the block names it (short: it is also the Script cell's text)
    "new_appointment": "New appointment",
    "follow_up": "Follow-up",
    "document_referral": "Documents",
    "other": "Other reasons",
}
_STAGES = {"first": "1st attempt", "later": "later attempt"}
_MODES = (("Call", False, False), ("Voicemail", True, False), ("Secure message", False, True))
_REASON_FOR = {stem: next((r for r, s in REASON_SCRIPTS.items() if s == stem), "Other") for stem in _STEMS}


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the Scripts tab: a language's script for a reason and attempt."""

    key: Key
    label: str
    row: int  # the block's title row on the Scripts tab
    lines: tuple[tuple[str, str], ...]  # (what, text) rows under the title


@dataclass(frozen=True, slots=True)
class ScriptsTab:
    """The Scripts tab: its rows, its blocks by key, the rows holding a title."""

    rows: tuple[tuple[str, str], ...]  # the tab from row 1, two columns
    blocks: Mapping[Key, Block]
    titles: frozenset[int]  # rows holding a block's title (styled as such)

    def block_for(self, language: object, reason: object, attempts: object) -> Block | None:
        key, english = block_keys(language, reason, attempts)
        return self.blocks.get(key) or self.blocks.get(english)


def block_label(key: Key) -> str:
    code, stem, stage = key
    return f"{LANGUAGE_NAMES.get(code, code)} · {_STEMS.get(stem, stem)} · {_STAGES[stage]}"


def build(
    *,
    clinic_name: str,
    callback_number: str,
    override_dir: Path | None = None,
    templates_dir: Path | None = None,
) -> ScriptsTab:
    """The Scripts tab for a clinic (raises ConfigError like `script` when a template fails the lint);
    built once per process for the same templates (the same file names, sizes and modification times:
    core.script_stamp.stamp), again when one is edited."""
    templates_dir = templates_dir or default_templates_dir()
    built = stamp(clinic_name, callback_number, override_dir, templates_dir)
    if built is None:  # a folder that cannot be listed: built each time (and failing as it does)
        return _build.__wrapped__(clinic_name, callback_number, override_dir, templates_dir, None)
    return _build(clinic_name, callback_number, override_dir, templates_dir, built)


@lru_cache(maxsize=8)
def _build(
    clinic_name: str, callback_number: str, override_dir: Path | None, templates_dir: Path, _stamp: str | None
) -> ScriptsTab:
    dirs = [d for d in (override_dir, templates_dir) if d is not None]
    codes = sorted({c for d in dirs for c in languages_in(d)} & set(LANGUAGE_NAMES) | {"en"})
    rows: list[tuple[str, str]] = [
        (f"Call scripts of {clinic_name}: a row's Script cell on the Queue tab links to its block.", ""),
        HEADER,
    ]
    blocks: dict[Key, Block] = {}
    titles = set()
    render = _Renderer(clinic_name, callback_number, override_dir, templates_dir)
    for code in codes:
        for stem in _STEMS:
            for stage in _STAGES:
                key = (code, stem, stage)
                lines = render.block(key)
                label = block_label(key)
                rows.append(("", ""))
                titles.add(len(rows) + 1)
                blocks[key] = Block(key, label, len(rows) + 1, tuple(lines))
                rows.append((label, ""))
                rows.extend(lines)
    return ScriptsTab(tuple(rows), blocks, frozenset(titles))


class _Renderer:
    """A block's lines: the live call, the voicemail, the secure message (each rendered by
    :func:`render_script`) and the do-not-say list. A voicemail or secure message does not depend on the
    reason (its template is the mode's, its placeholders have no reason), so each is rendered once per
    language and stage and its text reused for the other reasons' blocks, in the same order (a template
    that fails fails at the same block); the do-not-say list is the call's, and only when the call has
    none is the block rendered in full (the others' lists do take the reason)."""

    def __init__(
        self, clinic_name: str, callback_number: str, override_dir: Path | None, templates_dir: Path
    ) -> None:
        self.clinic_name, self.callback_number = clinic_name, callback_number
        self.override_dir, self.templates_dir = override_dir, templates_dir
        self.private: dict[tuple[str, str, str], RenderedScript] = {}

    def render(self, row: Mapping[str, object], voicemail: bool, secure_message: bool) -> RenderedScript:
        return render_script(
            templates_dir=self.templates_dir,
            override_dir=self.override_dir,
            row=row,
            clinic_name=self.clinic_name,
            callback_number=self.callback_number,
            first_name_in_voicemail=False,
            voicemail=voicemail,
            secure_message=secure_message,
        )

    def block(self, key: Key) -> list[tuple[str, str]]:
        code, stem, stage = key
        row = {
            model.LANGUAGE: LANGUAGE_NAMES[code],
            model.REASON: _REASON_FOR[stem],
            model.ATTEMPTS: 0 if stage == "first" else 1,
            model.CALLER: "",
            model.LAST_ATTEMPT: None,
        }
        call = self.render(row, False, False)
        rendered = [call]
        for what, voicemail, secure_message in _MODES[1:]:
            once = (code, stage, what)
            if once not in self.private or not call.guardrails.rstrip():
                self.private[once] = self.render(row, voicemail, secure_message)
            rendered.append(self.private[once])
        lines = [(what, r.text.rstrip()) for (what, _, _), r in zip(_MODES, rendered, strict=True)]
        guardrails = next((g for r in rendered if (g := r.guardrails.rstrip())), "")
        if guardrails:
            lines.append(("Do not say", guardrails))
        return lines


def cells(tab: ScriptsTab) -> dict[tuple[int, int], str | None]:
    return {
        (r, c): (v or None) for r, line in enumerate(tab.rows, start=1) for c, v in enumerate(line, start=1)
    }


def link_targets(tab: ScriptsTab) -> Sequence[int]:
    return sorted(b.row for b in tab.blocks.values())
