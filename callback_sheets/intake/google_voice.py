"""Google Voice call history from Google Takeout: one HTML file per event in `Takeout/Voice/Calls/`.

Accepted: the Takeout .zip, the unpacked folder (the `Takeout/Voice/Calls` folder inside it is used when
there is one), or a single event's .html file. Each event file carries its type in its labels
(`<a rel="tag" href="...#missed">`) and title ("Missed call from", "Voicemail from", "Received call
from", "Placed call to", "Recorded call with"), the caller's number as a `tel:` link, and the time as the
`title` of `<abbr class="published">` (ISO 8601 with the offset). Missed and Voicemail events become
calls; Received, Placed, Recorded and text conversations are ignored.

A voicemail's transcript is never read into the queue (minimum necessary): the parser skips the
`description` element entirely and only notes that a voicemail was left. File names (which hold names
and numbers) never appear in messages: bad events are named by their position ("event 3").
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime, tzinfo
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from callback_sheets.core.phones import PhoneError, parse_phone
from callback_sheets.errors import BackendError
from callback_sheets.intake.records import BadRecord, CallKind, CallLog, CallRecord, call_key

MAX_EVENT_BYTES = 2 * 1024 * 1024  # an event page is a few kB; a transcript page a few dozen
MAX_EVENTS = 200_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # a zip's pages together, uncompressed (a zip bomb stops here)
CALL_TYPES: dict[str, CallKind | None] = {
    "missed": "missed",
    "voicemail": "voicemail",
    "received": None,
    "placed": None,
    "recorded": None,
    "text": None,
}
_TITLES = (
    ("missed call", "missed"),
    ("voicemail", "voicemail"),
    ("received call", "received"),
    ("placed call", "placed"),
    ("recorded call", "recorded"),
)


class _Event(HTMLParser):
    """The few facts of one event page; the transcript (`description`) is skipped, never stored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.title = ""
        self.tel: str | None = None
        self.name = ""
        self.published: str | None = None
        self.duration: str | None = None
        self.chat = False
        self._in_title = False
        self._in_tel = False
        self._skip = 0  # depth inside a description element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = set(a.get("class", "").split())
        if self._skip:
            if tag == "span":
                self._skip += 1
            return
        if "description" in classes or "full-text" in classes:
            self._skip = 1
            return
        if "hChatLog" in classes or "message" in classes:
            self.chat = True
        if tag == "title":
            self._in_title = True
        elif tag == "a" and "tel" in classes and self.tel is None:
            self.tel = a.get("href", "").removeprefix("tel:").strip()
            self._in_tel = True
        elif tag == "a" and a.get("rel") == "tag":
            self.tags.append(a.get("href", "").rsplit("#", 1)[-1].strip().lower())
        elif tag == "abbr" and "published" in classes and self.published is None:
            self.published = a.get("title", "")
        elif tag == "abbr" and "duration" in classes:
            self.duration = a.get("title", "")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == "span":
                self._skip -= 1
            return
        if tag == "title":
            self._in_title = False
        elif tag == "a":
            self._in_tel = False

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        elif self._in_tel:
            self.name += data

    def kind(self) -> str | None:
        if self.chat:
            return "text"
        for tag in self.tags:
            if tag in CALL_TYPES:
                return tag
        title = " ".join(self.title.lower().split())
        for prefix, found in _TITLES:
            if title.startswith(prefix):
                return found
        return None


def _is_event(name: str) -> bool:
    return name.lower().endswith((".html", ".htm"))


def events(path: Path) -> Iterator[bytes]:
    """The event pages of a Takeout zip, folder or single file, in name order."""
    if path.is_dir():
        calls = next((p for p in path.rglob("Calls") if p.is_dir() and p.parent.name == "Voice"), None)
        base = calls or path
        files = sorted(
            p for p in (base.iterdir() if calls else base.rglob("*")) if p.is_file() and _is_event(p.name)
        )
        for p in files[:MAX_EVENTS]:
            if p.stat().st_size <= MAX_EVENT_BYTES:
                yield p.read_bytes()
        return
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                infos = [i for i in z.infolist() if not i.is_dir() and _is_event(i.filename)]
                inside = [i for i in infos if "Voice/Calls" in str(PurePosixPath(i.filename).parent)]
                budget = MAX_TOTAL_BYTES
                for info in sorted(inside or infos, key=lambda i: i.filename)[:MAX_EVENTS]:
                    if info.file_size <= MAX_EVENT_BYTES:
                        with z.open(info) as f:
                            page = f.read(MAX_EVENT_BYTES + 1)[:MAX_EVENT_BYTES]  # sizes can lie
                        budget -= len(page)
                        if budget < 0:
                            raise BackendError(
                                f"{path.name}: more than {MAX_TOTAL_BYTES // 2**20} MB of call pages: "
                                "not a Google Voice Takeout"
                            )
                        yield page
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise BackendError(
                f"{path.name}: the zip file could not be read ({type(exc).__name__})"
            ) from None
        return
    yield path.read_bytes()[:MAX_EVENT_BYTES]


def detect(path: Path) -> bool:
    """A folder, zip or .html that holds Google Voice event pages."""
    if path.is_file() and path.suffix.lower() in (".html", ".htm"):
        return b'class="haudio"' in path.read_bytes()[:20000] or b"hChatLog" in path.read_bytes()[:20000]
    if path.is_dir() or (path.is_file() and zipfile.is_zipfile(path)):
        for page in events(path):
            return b"haudio" in page or b"hChatLog" in page
    return False


def read(path: Path, *, clinic_tz: tzinfo, region: str) -> CallLog:
    log = CallLog(format="google-voice", unit="event")
    for n, page in enumerate(events(path), start=1):
        event = _Event()
        try:
            event.feed(page.decode("utf-8", errors="replace"))
            event.close()
        except Exception:  # html.parser is lenient; a page it still cannot take is one bad event
            log.bad.append(BadRecord(n, "the event page is not readable"))
            continue
        kind_name = event.kind()
        if kind_name is None:
            log.unknown_value("event type", (event.tags[0] if event.tags else "(unlabelled)")[:40])
            continue
        kind = CALL_TYPES[kind_name]
        if kind is None:
            log.ignore(kind_name if kind_name != "text" else "text message")
            continue
        try:
            when = datetime.fromisoformat((event.published or "").strip())
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            log.bad.append(BadRecord(n, "call time is not readable" if event.published else "no call time"))
            continue
        raw = event.tel or ""
        try:
            key = parse_phone(raw, region).key if raw else None
        except PhoneError as exc:
            log.bad.append(BadRecord(n, str(exc)))
            continue
        if key is None:
            log.bad.append(BadRecord(n, "no phone number"))
            continue
        received = when.astimezone(clinic_tz)
        log.calls.append(
            CallRecord(
                key=call_key(fmt="google-voice", call_id="", phone_key=key, received=received),
                received=received,
                phone_raw=raw,
                phone_key=key,
                caller_name=" ".join(event.name.split()),
                line=n,
                kind=kind,
            )
        )
    return log
