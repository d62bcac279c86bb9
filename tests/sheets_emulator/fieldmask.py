"""Field masks (``fields=sheets.properties.title,sheets(data/rowData/values/note)``) applied to JSON."""

from __future__ import annotations

from typing import Any

MaskTree = dict[str, "MaskTree"]


def parse_mask(text: str) -> MaskTree:
    """Parse a mask into a tree; an empty subtree means "the whole field"."""
    tree: MaskTree = {}
    _parse_into(text.replace("/", ".").replace(" ", ""), tree)
    return tree


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


def _parse_into(text: str, tree: MaskTree) -> None:
    for part in _split_top(text):
        head, _, rest = part.partition("(")
        node = tree
        names = head.split(".")
        for name in names:
            node = node.setdefault(name, {})
        if rest:
            _parse_into(rest[:-1], node)


def apply_mask(data: Any, tree: MaskTree) -> Any:
    """Keep only the masked fields; lists are masked element by element."""
    if not tree:
        return data
    if isinstance(data, list):
        return [apply_mask(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    if "*" in tree:
        return data
    out: dict[str, Any] = {}
    for key, sub in tree.items():
        if key in data:
            out[key] = apply_mask(data[key], sub)
    return out


def mask_paths(text: str) -> list[list[str]]:
    """The leaf paths of a mask: ``userEnteredFormat(a,b.c)`` -> ``[[userEnteredFormat, a], ...]``."""
    paths: list[list[str]] = []

    def walk(node: MaskTree, prefix: list[str]) -> None:
        for key, sub in node.items():
            if sub:
                walk(sub, [*prefix, key])
            else:
                paths.append([*prefix, key])

    walk(parse_mask(text), [])
    return paths
