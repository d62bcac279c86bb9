"""SpreadsheetML as bytes: attribute quoting, a root's namespace prefix, insertion before a closing tag,
and parsing a package part safely (no document type declarations). Used by the graft modules, which add
to existing parts without re-serialising them."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.cells import PatchRefused, escape

__all__ = [
    "bound_prefix",
    "escape",
    "insert_before_close",
    "quoteattr",
    "refuse_doctype",
    "root_prefix",
    "safe_parse",
]


def quoteattr(text: str) -> str:
    """``xml.sax.saxutils.quoteattr``: the value escaped and quoted for an attribute."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' in text:
        if "'" in text:
            return '"' + text.replace('"', "&quot;") + '"'
        return "'" + text + "'"
    return '"' + text + '"'


def root_prefix(xml: bytes, root: bytes) -> bytes:
    match = re.search(rb"<([A-Za-z_][\w.-]*:)?" + root + rb"[\s>/]", xml)
    return (match.group(1) or b"") if match else b""


def bound_prefix(xml: bytes, namespace: bytes) -> bytes | None:
    match = re.search(rb"""xmlns:([\w.-]+)\s*=\s*["']""" + re.escape(namespace) + rb"""["']""", xml)
    return match.group(1) if match else None


def insert_before_close(xml: bytes, tag: bytes, content: bytes) -> bytes:
    close = xml.rfind(b"</" + tag + b">")
    if close < 0:
        empty = re.search(rb"<" + re.escape(tag) + rb"\b([^>]*?)\s*/>", xml)
        if empty is None:
            raise PatchRefused(f"<{tag.decode()}> is not where it should be")
        return (
            xml[: empty.start()]
            + b"<"
            + tag
            + empty.group(1)
            + b">"
            + content
            + b"</"
            + tag
            + b">"
            + xml[empty.end() :]
        )
    return xml[:close] + content + xml[close:]


def safe_parse(xml: bytes, part: str) -> ElementTree.Element:
    """Parses a package part, refusing document type declarations (entity expansion)."""
    refuse_doctype(xml, part)
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise PatchRefused(f"{part} is not well-formed XML ({exc})") from None


def refuse_doctype(xml: bytes, part: str) -> None:
    head = xml[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head or b"<!doctype" in head:
        raise PatchRefused(f"{part} declares a document type (XML entities), which an .xlsx never needs")
