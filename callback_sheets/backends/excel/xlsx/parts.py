"""Package parts for a graft: relationships, content types, fresh part names, and the donor's parts
copied under them (their own relationships retargeted, references to renamed sheets followed).

A *donor* is a complete package made in memory (the tool's tabs as a new workbook would hold them);
:class:`Renamer` gives each donor part it reaches a name no target member has, and :meth:`Renamer.copied`
returns their bytes under those names.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.markup import insert_before_close, quoteattr, root_prefix, safe_parse

DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
WORKSHEET_TYPE = DOC_RELS + "/worksheet"
STYLES_TYPE = DOC_RELS + "/styles"
STYLES_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_ID = re.compile(rb"""\sId\s*=\s*["']([^"']*)["']""")

Read = Callable[[str], "bytes | None"]
"""A target part's bytes by part name (case-insensitive), or None when the package lacks it."""


class Donor:
    """A donor package in memory: its parts looked up case-insensitively, as OPC part names are."""

    def __init__(self, data: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self.by_lower = {n.lower(): n for n in self._zip.namelist()}

    def read(self, part: str) -> bytes:
        return self._zip.read(self.by_lower[part.lower()])

    def has(self, part: str) -> bool:
        return part.lower() in self.by_lower

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        return relationships(self.read, self.by_lower, part)

    def sheets(self) -> tuple[ElementTree.Element, list[tuple[str, str | None, str]]]:
        """xl/workbook.xml's root, and its sheets as (name, state, relationship id)."""
        root = ElementTree.fromstring(self.read("xl/workbook.xml"))
        entries = [
            (s.get("name", ""), s.get("state"), s.get(f"{{{DOC_RELS}}}id", ""))
            for s in root.iterfind(f"{MAIN}sheets/{MAIN}sheet")
        ]
        return root, entries


class Renamer:
    """Fresh target names for donor parts: ``reach(part)`` names a part and, through its relationships,
    every donor part it leads to (``order`` is the order they were reached, ``new_name`` donor -> target).
    A name is fresh when neither it nor its relationships part is among the target's members."""

    def __init__(self, names: Sequence[str], donor: Donor) -> None:
        self._taken = {n.lower() for n in names}
        self._donor = donor
        self.new_name: dict[str, str] = {}
        self.order: list[str] = []

    def reach(self, part: str) -> None:
        if part in self.new_name:
            return
        folder, base = posixpath.split(part)
        stem, ext = posixpath.splitext(base)
        prefix = stem.rstrip("0123456789") or stem
        number = 1
        while True:
            candidate = posixpath.join(folder, f"{prefix}{number}{ext}")
            if candidate.lower() not in self._taken and rels_name(candidate).lower() not in self._taken:
                break
            number += 1
        self._taken.add(candidate.lower())
        self.new_name[part] = candidate
        self.order.append(part)
        by_lower = self._donor.by_lower
        for _kind, target in self._donor.relationships(part).values():
            if target.lower() in by_lower:
                self.reach(by_lower[target.lower()])

    def copied(
        self, renames: Mapping[str, str], adjust: Callable[[str, bytes], bytes] | None = None
    ) -> dict[str, bytes]:
        """Every reached part (``adjust``-ed, references to ``renames`` followed) and its relationships
        part, under their new names, in the order they were reached."""
        donor, new_name = self._donor, self.new_name
        added: dict[str, bytes] = {}
        for part in self.order:
            data = donor.read(part)
            if adjust is not None:
                data = adjust(part, data)
            if renames and part.lower().endswith(".xml"):
                data = rename_references(data, renames)
            added[new_name[part]] = data
            rels = rels_name(part)
            if donor.has(rels):
                added[rels_name(new_name[part])] = retargeted_rels(
                    donor.read(rels), part, donor.by_lower, new_name
                )
        return added

    def declared_types(self, read: Read) -> bytes:
        """The target's [Content_Types].xml declaring every reached part by its new name."""
        ct_xml = read("[Content_Types].xml")
        if ct_xml is None:
            raise PatchRefused("the package has no [Content_Types].xml")
        types = content_types(self._donor.read("[Content_Types].xml"))
        return with_content_types(ct_xml, {self.new_name[p]: types.get(p, "") for p in self.order})


def rename_references(xml: bytes, renames: Mapping[str, str]) -> bytes:
    """Formulas, ranges and sheet names in ``xml`` that refer to a renamed sheet, pointed at its new name."""
    for old, new in renames.items():
        quoted = ("'" + new.replace("'", "''") + "'").encode()
        pattern = rb"(?<![\w.'])(?:'" + re.escape(old.encode()) + rb"'|" + re.escape(old.encode()) + rb")!"
        xml = re.sub(pattern, quoted.replace(b"\\", b"\\\\") + b"!", xml)
    return xml


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def relationships(
    read: Callable[[str], bytes], by_lower: Mapping[str, str], part: str
) -> dict[str, tuple[str, str]]:
    rels = rels_name(part)
    if rels.lower() not in by_lower:
        return {}
    folder = posixpath.dirname(part)
    found: dict[str, tuple[str, str]] = {}
    for rel in ElementTree.fromstring(read(rels)).iterfind(f"{PKG_RELS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(resolved))
    return found


def retargeted_rels(xml: bytes, part: str, by_lower: Mapping[str, str], new_name: Mapping[str, str]) -> bytes:
    folder = posixpath.dirname(part)

    def fix(match: re.Match[bytes]) -> bytes:
        tag = match.group(0)
        if b"External" in tag:
            return tag
        target = re.search(rb"""\sTarget\s*=\s*(["'])([^"']*)\1""", tag)
        if target is None:
            return tag
        text = target.group(2).decode()
        resolved = (
            text.lstrip("/") if text.startswith("/") else posixpath.normpath(posixpath.join(folder, text))
        )
        donor = by_lower.get(resolved.lower())
        if donor is None or donor not in new_name:
            return tag
        return tag[: target.start(2)] + ("/" + new_name[donor]).encode() + tag[target.end(2) :]

    return re.sub(rb"<Relationship\b[^>]*>", fix, xml)


def content_types(xml: bytes) -> dict[str, str]:
    """Part name (no leading slash) -> content type, from the donor's overrides and defaults."""
    root = ElementTree.fromstring(xml)
    defaults = {
        d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iterfind(f"{CT}Default")
    }
    overrides = {
        o.get("PartName", "").lstrip("/").lower(): o.get("ContentType", "")
        for o in root.iterfind(f"{CT}Override")
    }

    class Types(dict[str, str]):
        def get(self, part: str, default: str = "") -> str:  # type: ignore[override]
            found = overrides.get(part.lower())
            if found is None:
                found = defaults.get(posixpath.splitext(part)[1].lstrip(".").lower(), default)
            return found

    return Types()


def with_content_types(xml: bytes, wanted: Mapping[str, str]) -> bytes:
    root = safe_parse(xml, "[Content_Types].xml")
    defaults = {
        d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iterfind(f"{CT}Default")
    }
    overrides = {o.get("PartName", "").lstrip("/").lower() for o in root.iterfind(f"{CT}Override")}
    prefix = root_prefix(xml, b"Types")
    pieces = []
    for part, kind in wanted.items():
        if not kind or part.lower() in overrides:
            continue
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        if defaults.get(ext) == kind:
            continue
        pieces.append(
            b"<%sOverride PartName=%s ContentType=%s/>"
            % (prefix, quoteattr("/" + part).encode(), quoteattr(kind).encode())
        )
    return insert_before_close(xml, prefix + b"Types", b"".join(pieces))


def with_relationships(xml: bytes, rels: Sequence[tuple[bytes, str, str]]) -> bytes:
    prefix = root_prefix(xml, b"Relationships")
    pieces = b"".join(
        b"<%sRelationship Id=%s Type=%s Target=%s/>"
        % (prefix, quoteattr(rid.decode()).encode(), quoteattr(kind).encode(), quoteattr(target).encode())
        for rid, kind, target in rels
    )
    return insert_before_close(xml, prefix + b"Relationships", pieces)


def used_ids(rels_xml: bytes) -> set[bytes]:
    """The relationship ids a relationships part already uses."""
    return set(_ID.findall(rels_xml))


def fresh_id(used: set[bytes]) -> bytes:
    number = len(used) + 1
    while f"rId{number}".encode() in used:
        number += 1
    rid = f"rId{number}".encode()
    used.add(rid)
    return rid


def relative(folder: str, part: str) -> str:
    return posixpath.relpath(part, folder) if folder else part
