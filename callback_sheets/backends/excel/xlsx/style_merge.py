"""styles.xml gaining a donor's formats: fonts, fills, borders, number formats (fresh ids >= 164), cell
formats and differential formats appended, each collection's count kept right. Existing entries keep
their indices; the maps returned say where each donor index went."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.markup import insert_before_close

# CT_Stylesheet's children, in order.
STYLE_ORDER = (
    b"numFmts",
    b"fonts",
    b"fills",
    b"borders",
    b"cellStyleXfs",
    b"cellXfs",
    b"cellStyles",
    b"dxfs",
    b"tableStyles",
    b"colors",
    b"extLst",
)
_CHILD = {
    b"numFmts": b"numFmt",
    b"fonts": b"font",
    b"fills": b"fill",
    b"borders": b"border",
    b"cellXfs": b"xf",
    b"dxfs": b"dxf",
    b"cellStyleXfs": b"xf",
}
_ATTR = re.compile(rb"""\s([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_COUNT = re.compile(rb"""(\scount\s*=\s*["'])(\d*)(["'])""")
_MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
    b'<fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b'<dxfs count="0"/></styleSheet>'
)
"""The styles part added to a package that has none (the patcher then gives dates a date format)."""


def minimal_styles() -> bytes:
    return _MINIMAL_STYLES


def styles_prefix(xml: bytes) -> bytes:
    """The namespace prefix of styles.xml's root (b"" when it has none, or no root)."""
    root = re.search(rb"<([A-Za-z_][\w.-]*:)?styleSheet\b", xml)
    return (root.group(1) or b"") if root else b""


def merge_styles(target: bytes, donor: bytes | None) -> tuple[dict[int, int], dict[int, int], bytes]:
    """The donor's cell and differential formats appended to ``target``: (donor xf index -> target
    index, donor dxf index -> target index, new styles.xml). Existing entries keep their indices."""
    if donor is None:
        return {}, {}, target
    root = re.search(rb"<([A-Za-z_][\w.-]*:)?styleSheet\b", target)
    if root is None:
        raise PatchRefused("styles.xml has no <styleSheet> root")
    prefix = root.group(1) or b""
    num_map, new_nums = _merged_num_fmts(target, prefix, donor)
    maps: dict[bytes, dict[int, int]] = {}
    additions: dict[bytes, list[bytes]] = {b"numFmts": new_nums}
    for collection, reserved in ((b"fonts", 1), (b"fills", 2), (b"borders", 1)):
        maps[collection], additions[collection] = _merged_collection(
            target, prefix, donor, collection, reserved
        )
    xf_map, additions[b"cellXfs"] = _merged_xfs(target, prefix, donor, num_map, maps)
    d_dxfs = style_children(donor, b"", b"dxfs")
    t_dxf_count = len(style_children(target, prefix, b"dxfs"))
    dxf_map = {i: t_dxf_count + i for i in range(len(d_dxfs))}
    additions[b"dxfs"] = d_dxfs
    xml = target
    for collection in STYLE_ORDER:
        items = additions.get(collection)
        if items:
            xml = appended_styles(xml, prefix, collection, [prefixed(i, prefix) for i in items])
    return xf_map, dxf_map, xml


def _merged_num_fmts(target: bytes, prefix: bytes, donor: bytes) -> tuple[dict[int, int], list[bytes]]:
    """The donor's custom number formats under fresh ids: (donor id -> target id, new <numFmt>s)."""
    d_num = {int(a[b"numFmtId"]): a for a in (_attrs(e) for e in style_children(donor, b"", b"numFmts"))}
    t_num_ids = [
        int(a.get(b"numFmtId", b"0"))
        for a in (_attrs(e) for e in style_children(target, prefix, b"numFmts"))
        if a.get(b"numFmtId", b"").isdigit()
    ]
    next_num = max([163, *t_num_ids]) + 1
    num_map: dict[int, int] = {}
    new_nums = []
    for old, attrs in d_num.items():
        if old < 164:
            continue
        num_map[old] = next_num
        new_nums.append(
            b'<numFmt numFmtId="%d" formatCode="%s"/>' % (next_num, attrs.get(b"formatCode", b""))
        )
        next_num += 1
    return num_map, new_nums


def _merged_collection(
    target: bytes, prefix: bytes, donor: bytes, collection: bytes, reserved: int
) -> tuple[dict[int, int], list[bytes]]:
    """Fonts, fills or borders: the first ``reserved`` are shared (the defaults), the donor's others
    appended: (donor index -> target index, the items to append)."""
    d_items = style_children(donor, b"", collection)
    base = len(style_children(target, prefix, collection))
    mapping = {i: i for i in range(min(reserved, base))}
    extra: list[bytes] = []
    for index, item in enumerate(d_items):
        if index in mapping:
            continue
        mapping[index] = base + len(extra)
        extra.append(item)
    return mapping, extra


def _merged_xfs(
    target: bytes,
    prefix: bytes,
    donor: bytes,
    num_map: Mapping[int, int],
    maps: Mapping[bytes, Mapping[int, int]],
) -> tuple[dict[int, int], list[bytes]]:
    """The donor's cell formats (xf 0 shared) pointed at the merged fonts, fills, borders and number
    formats: (donor index -> target index, the <xf>s to append)."""
    d_xfs = style_children(donor, b"", b"cellXfs")
    t_xf_count = len(style_children(target, prefix, b"cellXfs"))
    has_style_xf = bool(style_children(target, prefix, b"cellStyleXfs"))
    xf_map: dict[int, int] = {0: 0} if t_xf_count else {}
    new_xfs: list[bytes] = []
    for index, xf in enumerate(d_xfs):
        if index in xf_map:
            continue
        xf = _remap_attr(xf, b"numFmtId", num_map)
        xf = _remap_attr(xf, b"fontId", maps[b"fonts"])
        xf = _remap_attr(xf, b"fillId", maps[b"fills"])
        xf = _remap_attr(xf, b"borderId", maps[b"borders"])
        if not has_style_xf:
            xf = re.sub(rb"""\sxfId=["']\d+["']""", b"", xf, count=1)
        xf_map[index] = t_xf_count + len(new_xfs)
        new_xfs.append(xf)
    return xf_map, new_xfs


def style_children(xml: bytes, prefix: bytes, collection: bytes) -> list[bytes]:
    p = re.escape(prefix)
    block = re.search(rb"<" + p + collection + rb"\b[^>]*?(/?)>", xml)
    if block is None or block.group(1):
        return []
    close = xml.find(b"</" + prefix + collection + b">", block.end())
    if close < 0:
        raise PatchRefused(f"styles.xml's <{collection.decode()}> is not closed")
    child = re.escape(_CHILD[collection])
    pattern = rb"<" + p + child + rb"\b[^>]*?(?:/>|>.*?</" + p + child + rb">)"
    return re.findall(pattern, xml[block.end() : close], re.DOTALL)


def appended_styles(xml: bytes, prefix: bytes, collection: bytes, items: Sequence[bytes]) -> bytes:
    p = re.escape(prefix)
    block = re.search(rb"<" + p + collection + rb"\b([^>]*?)(/?)>", xml)
    joined = b"".join(items)
    if block is None:
        new = b'<%s%s count="%d">%s</%s%s>' % (prefix, collection, len(items), joined, prefix, collection)
        later = STYLE_ORDER[STYLE_ORDER.index(collection) + 1 :]
        for tag in later:
            match = re.search(rb"<" + p + tag + rb"[\s/>]", xml)
            if match is not None:
                return xml[: match.start()] + new + xml[match.start() :]
        return insert_before_close(xml, prefix + b"styleSheet", new)
    existing = len(style_children(xml, prefix, collection))
    attrs = block.group(1)
    counted = _COUNT.search(attrs)
    total = str(existing + len(items)).encode()
    if counted is not None:
        attrs = attrs[: counted.start(2)] + total + attrs[counted.end(2) :]
    else:
        attrs = attrs + b' count="' + total + b'"'
    tag = b"<" + prefix + collection + attrs
    if block.group(2):
        return (
            xml[: block.start()]
            + tag
            + b">"
            + joined
            + b"</"
            + prefix
            + collection
            + b">"
            + xml[block.end() :]
        )
    close = xml.find(b"</" + prefix + collection + b">", block.end())
    return xml[: block.start()] + tag + b">" + xml[block.end() : close] + joined + xml[close:]


def _remap_attr(xml: bytes, name: bytes, mapping: Mapping[int, int]) -> bytes:
    def fix(match: re.Match[bytes]) -> bytes:
        number = int(match.group(2))
        return match.group(1) + str(mapping.get(number, number)).encode() + match.group(3)

    head_end = xml.find(b">")
    head = re.sub(rb"(\s" + name + rb"""=["'])(\d+)(["'])""", fix, xml[:head_end], count=1)
    return head + xml[head_end:]


def prefixed(xml: bytes, prefix: bytes) -> bytes:
    if not prefix:
        return xml
    return re.sub(rb"<(/?)(?=[A-Za-z])", lambda m: b"<" + m.group(1) + prefix, xml)


def _attrs(element: bytes) -> dict[bytes, bytes]:
    head = element[: element.find(b">")]
    return {m.group(1): m.group(2)[1:-1] for m in _ATTR.finditer(head)}
