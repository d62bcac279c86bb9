"""[queue]: the queue's own settings (ID prefix, repeat window, voicemail wording, templates) and the
names of the tool's tabs in the workbook (``tabs``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from callback_sheets.config.values import boolean, opt_text, positive_int
from callback_sheets.errors import ConfigError
from callback_sheets.layout import ROLE_KEYS

QUEUE_KEYS = {
    "backend",
    "id_prefix",
    "repeat_window_business_days",
    "first_name_in_voicemail",
    "templates",
    "tabs",
}
"""[queue]'s keys besides backends' settings (e.g. ``workbook``, the registry's)."""


def read_queue(queue: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """[queue]'s settings, as :class:`~callback_sheets.config.Config` fields."""
    tabs = read_tabs(queue.get("tabs", {}))
    templates = opt_text(queue, "templates", "queue.templates", "", example='"my_templates"') or None
    return {
        "id_prefix": opt_text(queue, "id_prefix", "queue.id_prefix", "CB", example='"CB"'),
        "repeat_window_business_days": positive_int(
            queue.get("repeat_window_business_days", 2), "queue.repeat_window_business_days"
        ),
        "first_name_in_voicemail": boolean(
            queue.get("first_name_in_voicemail", False), "queue.first_name_in_voicemail"
        ),
        "templates": base / str(templates) if templates else None,
        "tabs": tabs,
    }


_BAD_TAB_CHARS = set("[]:*?/\\")


def read_tabs(raw: object) -> dict[str, str]:
    """`[queue] tabs`: the tool's tab roles -> the names they have in the workbook (Excel's rules)."""
    if not isinstance(raw, Mapping):
        raise ConfigError('queue.tabs: a table such as { lists = "Callback lists" }')
    names: dict[str, str] = {}
    for key, value in raw.items():
        where = f"queue.tabs.{key}"
        if key not in ROLE_KEYS:
            raise ConfigError(f"{where}: unknown tab; the tool's tabs are {', '.join(ROLE_KEYS)}")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: the tab's name, as text")
        if len(value) > 31 or set(value) & _BAD_TAB_CHARS or value.startswith("'") or value.endswith("'"):
            raise ConfigError(
                f"{where}: {value!r} is not a valid tab name (at most 31 characters, none of []:*?/\\)"
            )
        names[ROLE_KEYS[key]] = value
    folded = [n.casefold() for n in {**{r: r for r in ROLE_KEYS.values()}, **names}.values()]
    if len(set(folded)) != len(folded):
        raise ConfigError("queue.tabs: two of the tool's tabs would have the same name (names ignore case)")
    return names
