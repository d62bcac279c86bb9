"""The import formats, in one registry: each preset is a name, a one-line description, a detector and a
reader. `import-calls --help`, the error for an unknown file and the README's list come from here.

Detection without `--format` tries the presets in registry order (header presets first, then the
header-less Asterisk Master.csv); a folder, a .zip or an .html file is a Google Voice Takeout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from callback_sheets.cells import text as _text
from callback_sheets.errors import BackendError
from callback_sheets.intake.presets import (
    GENERIC_MAPPING_KEYS,
    LayoutFinder,
    LayoutFor,
    describe_columns,
    fits,
    fixed_layout,
    generic_layout,
    norm,
    ringcentral,
    twilio,
)
from callback_sheets.intake.records import CallLog, UnknownFormatError

if TYPE_CHECKING:
    from callback_sheets.intake import asterisk
    from callback_sheets.intake.readers import Row

# The readers (phone parsing, the xlsx reader, the HTML parser) are imported by the preset that reads:
# this module is light, so config load checks `[intake] format` against REGISTRY itself.


@dataclass(frozen=True, slots=True)
class Source:
    """The file being imported, with its rows once read (tabular files only)."""

    path: Path
    rows: list[Row] | None

    def header(self) -> list[str]:
        return [_text(c) for c in self.rows[0][1]] if self.rows else []


@dataclass(frozen=True, slots=True)
class ReadOptions:
    export_tz: tzinfo
    export_tz_set: bool  # [intake] timezone was given (else Asterisk reads the clinic's zone)
    clinic_tz: tzinfo
    region: str
    mapping: Mapping[str, str] | None
    asterisk: asterisk.AsteriskOptions
    progress: Callable[[int, int], None] | None
    date_order: str = "MDY"  # [clinic] date_order: how a numeric date in the export is read


def _always(options: ReadOptions) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Preset:
    """One import format: its name (for --format and [intake] format), a one-line description for
    `import-calls --help`, a detector and a reader."""

    name: str
    summary: str
    detect: Callable[[Source], bool]
    read: Callable[[Source, ReadOptions], CallLog]
    tabular: bool = True  # False: reads a folder, zip or HTML itself
    # With --format: check the file with `detect` first (False: the reader's own message says what is
    # missing, or the options say how to read it).
    check_named: Callable[[ReadOptions], bool] = _always
    not_found: str = ""  # a non-tabular preset's message when `detect` finds nothing


def layout_preset(name: str, summary: str, find: LayoutFinder) -> Preset:
    """A preset read by the header layout `find` (presets.py) with the tabular reader."""
    return Preset(
        name,
        summary,
        lambda source: fits(find, source.header()),
        _table_reader(fixed_layout(name, find)),
        check_named=lambda options: False,
    )


def _table_reader(layout_for: LayoutFor) -> Callable[[Source, ReadOptions], CallLog]:
    def read(source: Source, o: ReadOptions) -> CallLog:
        from callback_sheets.intake.readers import read_call_log as read_table

        return read_table(
            source.path,
            layout_for=layout_for,
            export_tz=o.export_tz,
            clinic_tz=o.clinic_tz,
            region=o.region,
            progress=o.progress,
            rows=source.rows,
            date_order=o.date_order,
        )

    return read


def _generic_read(source: Source, o: ReadOptions) -> CallLog:
    return _table_reader(generic_layout(o.mapping))(source, o)


def _strings(rows: Sequence[Row]) -> list[tuple[int, list[str]]]:
    return [(line, [_text(c) for c in cells]) for line, cells in rows]


def _asterisk_detect(source: Source) -> bool:
    from callback_sheets.intake import asterisk

    rows = source.rows
    return bool(rows) and rows is not None and asterisk.detect([_strings(rows[:1])[0][1]])


def _asterisk_read(source: Source, o: ReadOptions) -> CallLog:
    from callback_sheets.intake import asterisk

    return asterisk.read(
        _strings(source.rows or []),
        options=o.asterisk,
        export_tz=o.export_tz if o.export_tz_set else None,
        clinic_tz=o.clinic_tz,
        region=o.region,
    )


def _3cx_detect(source: Source) -> bool:
    from callback_sheets.intake import hosted

    return bool(source.rows) and hosted.detect_3cx(source.rows or [])


def _3cx_read(source: Source, o: ReadOptions) -> CallLog:
    from callback_sheets.intake import hosted

    return hosted.read_3cx(source.rows or [], export_tz=o.export_tz, clinic_tz=o.clinic_tz, region=o.region)


def _aircall_detect(source: Source) -> bool:
    from callback_sheets.intake import hosted

    return bool(source.rows) and hosted.detect_aircall(source.rows or [])


def _aircall_read(source: Source, o: ReadOptions) -> CallLog:
    from callback_sheets.intake import hosted

    return hosted.read_aircall(source.rows or [], clinic_tz=o.clinic_tz, region=o.region)


def _google_voice_detect(source: Source) -> bool:
    from callback_sheets.intake import google_voice

    return google_voice.detect(source.path)


def _google_voice_read(source: Source, o: ReadOptions) -> CallLog:
    from callback_sheets.intake import google_voice

    return google_voice.read(source.path, clinic_tz=o.clinic_tz, region=o.region)


# The presets, in detection order. A new phone system is one entry here (its reader in its own module,
# imported when it reads); --format, [intake] format, the CLI help, the error messages and the README's
# list (checked by a test) follow.
REGISTRY: tuple[Preset, ...] = (
    layout_preset(
        "twilio",
        "Twilio's Call resource as CSV (Sid, StartTime, From, Direction, Status...); times in UTC",
        twilio,
    ),
    layout_preset(
        "ringcentral",
        "RingCentral's call log CSV (Type, Direction, From, Date, Time, Action Result)",
        ringcentral,
    ),
    Preset(
        "3cx",
        "3CX CDR log (historyid, callid, duration, time-start, time-answered, ...), with or without a header",
        _3cx_detect,
        _3cx_read,
    ),
    Preset(
        "aircall",
        "Aircall call history CSV (datetime (UTC), answered, missed_call_reason, call type, ...)",
        _aircall_detect,
        _aircall_read,
    ),
    Preset(
        "asterisk",
        "Asterisk / FreePBX / Issabel Master.csv (cdr_csv or cdr_custom order, or [intake.asterisk] columns)",
        _asterisk_detect,
        _asterisk_read,
        check_named=lambda options: not options.asterisk.columns,
    ),
    Preset(
        "google-voice",
        "Google Voice Takeout (the .zip, the folder, or one event .html): Missed and Voicemail events",
        _google_voice_detect,
        _google_voice_read,
        tabular=False,
        not_found="no Google Voice call events found (expected a Takeout .zip or folder with "
        "Takeout/Voice/Calls/*.html)",
    ),
)
GENERIC = Preset(
    "generic", "any CSV or .xlsx, with a column mapping in [intake.mapping]", lambda s: False, _generic_read
)


def _default_asterisk_options() -> asterisk.AsteriskOptions:
    from callback_sheets.intake import asterisk

    return asterisk.AsteriskOptions()


def preset_names() -> tuple[str, ...]:
    """The presets' names, in detection order (read from REGISTRY at each call)."""
    return tuple(p.name for p in REGISTRY)


def formats() -> tuple[str, ...]:
    """Every name --format and [intake] format accept: the presets, then "generic"."""
    return (*preset_names(), GENERIC.name)


def _named(fmt: str) -> Preset:
    return next((p for p in (*REGISTRY, GENERIC) if p.name == fmt), GENERIC)


def _container(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in (".zip", ".html", ".htm")


def read_call_log(
    path: Path,
    *,
    fmt: str | None,
    mapping: Mapping[str, str] | None = None,
    export_tz: tzinfo,
    clinic_tz: tzinfo,
    region: str,
    progress: Callable[[int, int], None] | None = None,
    export_tz_set: bool = False,
    asterisk_options: asterisk.AsteriskOptions | None = None,
    date_order: str = "MDY",
) -> CallLog:
    """Read an export with the named preset, or the one whose detector recognises it.

    Raises UnknownFormatError naming the known formats when none fits, BackendError when the file
    cannot be read.
    """
    if fmt is not None and fmt not in formats():
        raise UnknownFormatError(f"unknown import format {fmt!r}; known formats: {', '.join(formats())}")
    if not path.exists():
        raise BackendError(f"{path.name}: no such file or folder")
    options = ReadOptions(
        export_tz=export_tz,
        export_tz_set=export_tz_set,
        clinic_tz=clinic_tz,
        region=region,
        mapping=mapping,
        asterisk=asterisk_options or _default_asterisk_options(),
        progress=progress,
        date_order=date_order,
    )
    containers = [p for p in REGISTRY if not p.tabular]
    named = _named(fmt) if fmt is not None else None
    if (named is not None and not named.tabular) or (named is None and _container(path)):
        return _read_container(Source(path, None), [named] if named is not None else containers, options)
    if _container(path):
        kinds = " or ".join(p.name for p in containers)
        raise UnknownFormatError(f"{path.name}: a folder, .zip or .html file can only be a {kinds} Takeout")
    from callback_sheets.intake.readers import read_rows

    rows = read_rows(path)
    if not rows:
        raise BackendError(f"{path.name}: the file is empty")
    source = Source(path, rows)
    if named is not None:
        return _read_named(source, named, options)
    return _read_detected(source, options)


def _read_container(source: Source, candidates: Sequence[Preset], options: ReadOptions) -> CallLog:
    for preset in candidates:
        if preset.detect(source):
            return preset.read(source, options)
    raise UnknownFormatError(f"{source.path.name}: {candidates[0].not_found}")


def _read_named(source: Source, preset: Preset, options: ReadOptions) -> CallLog:
    if preset is GENERIC or not preset.check_named(options) or preset.detect(source):
        return preset.read(source, options)
    raise UnknownFormatError(
        f"this file does not look like a {preset.name} export. Columns found: "
        f"{describe_columns(source.header())}. Known formats: {', '.join(formats())}."
    )


def _read_detected(source: Source, options: ReadOptions) -> CallLog:
    for preset in REGISTRY:
        if preset.tabular and preset.detect(source):
            return preset.read(source, options)
    if options.mapping:
        return GENERIC.read(source, options)
    rows = source.rows or []
    if options.asterisk.columns and len(rows[0][1]) >= len(options.asterisk.columns) - 1:
        return _named("asterisk").read(source, options)
    header = source.header()
    looks_headerless = sum(any(ch.isdigit() for ch in h) for h in header) > len(header) // 2
    hint = (
        " The first line looks like data, not a header: for an Asterisk Master.csv in another column "
        "order set [intake.asterisk] columns."
        if looks_headerless
        else ""
    )
    raise UnknownFormatError(
        f"the columns of this file match no known export ({', '.join(preset_names())}). Columns found: "
        f"{describe_columns(header)}.{hint} Or set a generic column mapping in config with the keys: "
        f"{', '.join(GENERIC_MAPPING_KEYS)} (received and phone are required)."
    )


__all__ = [
    "GENERIC",
    "REGISTRY",
    "Preset",
    "formats",
    "layout_preset",
    "norm",
    "preset_names",
    "read_call_log",
]
