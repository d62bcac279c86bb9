"""The emulator's HTTP server: routes Sheets v4 / Drive v3 paths to handlers, with faults and a log.

Usage::

    with SheetsEmulator() as emu:               # 127.0.0.1, free port
        book = emu.store.create("Queue", {"Calls": [["ID", "Phone"], [1, "+1 555 0100"]]})
        gc = gspread_client(emu.base_url)       # tests.sheets_emulator.client
        emu.fail_next(2, status=429)            # next two requests get Google's quota error
        gc.open_by_key(book.spreadsheet_id)     # ...so gspread sees 429s first
        emu.requests                            # every request received, in order
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.sheets_emulator import drive, partial, values_api
from tests.sheets_emulator.batch_update import apply_requests, batch_update
from tests.sheets_emulator.errors import ApiError, bad_request, not_found
from tests.sheets_emulator.faults import Fault, FaultPlan, LoggedRequest
from tests.sheets_emulator.metadata import spreadsheet_resource
from tests.sheets_emulator.store import Store

_SHEETS = re.compile(r"^/v4/spreadsheets/([^/:]+)(.*)$")
_FILES = re.compile(r"^/drive/v3/files(?:/([^/]+))?(/copy)?$")
POLL_SECONDS = 0.02


class SheetsEmulator:
    """A running emulator: ``store`` (the data), ``requests`` (the log) and fault injection."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, store: Store | None = None) -> None:
        self.store = store or Store()
        self.plan = FaultPlan()
        emulator = self

        class Handler(_Handler):
            owner = emulator

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; Google's hosts map onto it (see ``client.py``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[LoggedRequest]:
        """The requests received so far (control-endpoint requests are not logged)."""
        with self.plan.lock:
            return list(self.plan.log)

    def start(self) -> SheetsEmulator:
        """Serve in a background thread."""
        # shutdown() waits for the serving loop to look at its flag, which it does once per poll: the
        # default 0.5 s poll made every test wait half a second in teardown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SheetsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self,
        count: int = 1,
        status: int = 429,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Answer the next ``count`` matching requests with ``status`` (429 quota body, or 5xx)."""
        return self.plan.add(Fault(status, count, method, path, 0.0, retry_after))

    def delay_next(
        self, seconds: float, count: int = 1, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Delay the next ``count`` matching requests, then answer them normally."""
        return self.plan.add(Fault(0, count, method, path, seconds))

    def before_request(self, nth: int, action: Callable[[], None]) -> None:
        """Run ``action`` (e.g. a staff edit on ``store``) just before the ``nth`` request from now."""
        self.plan.before_request(nth, action)

    def clear_faults(self) -> None:
        """Drop pending faults and hooks."""
        self.plan.clear()

    def reset_log(self) -> None:
        """Forget the logged requests (hooks count from the new empty log)."""
        with self.plan.lock:
            self.plan.log.clear()
            self.plan.hooks.clear()

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many logged requests match a method and a path regular expression."""
        probe = Fault(0, 1, method, path)
        return sum(1 for r in self.requests if probe.matches(r.method, r.path))


def _params(query: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(query, keep_blank_values=True)


class _Handler(BaseHTTPRequestHandler):
    owner: SheetsEmulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, *, pretty: bool = True
    ) -> None:
        # Google answers indented JSON unless the standard query parameter prettyPrint=false says not to
        # ("Returns response with indentations and line breaks", default true; the system parameters).
        if body is None:
            data = b""
        else:
            text = json.dumps(body, indent=2) if pretty else json.dumps(body, separators=(",", ":"))
            data = text.encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        raw_path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        if raw_path.startswith("/_emulator/"):
            self._control(method, raw_path, raw_body)
            return
        body: Any = None
        body_error: ApiError | None = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode("utf-8", "replace")
                body_error = bad_request("Invalid JSON payload received.")
        entry = LoggedRequest(method, urllib.parse.unquote(raw_path), _params(query), body)
        due, fault = self.owner.plan.record(entry)
        for action in due:
            action()
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                entry.status = fault.status
                self._send(fault.status, fault.body(), headers)
                return
        try:
            if body_error:
                raise body_error
            status, answer = self._route(
                method, raw_path, _params(query), body if isinstance(body, dict) else {}
            )
        except ApiError as exc:
            status, answer = exc.code, exc.body()
        entry.status = status
        self._send(status, answer, pretty=_params(query).get("prettyPrint", ["true"])[0].lower() != "false")

    def _route(
        self, method: str, raw_path: str, params: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any]:
        store = self.owner.store
        if raw_path in ("/v4/spreadsheets", "/v4/spreadsheets/") and method == "POST":
            return 200, _create_spreadsheet(store, body)
        m = _SHEETS.match(raw_path)
        if m:
            fields = params.get("fields", [""])[0]
            named = partial.method_of(m.group(2), method) if fields else None
            if named is not None:  # a misspelt mask is refused before anything is done
                partial.masked({}, fields, named)
            status, answer = _route_sheets(
                store, method, urllib.parse.unquote(m.group(1)), m.group(2), params, body
            )
            return status, partial.masked(answer, fields, named) if named is not None else answer
        m = _FILES.match(raw_path)
        if m:
            file_id = urllib.parse.unquote(m.group(1)) if m.group(1) else None
            return _route_drive(store, method, file_id, bool(m.group(2)), params, body)
        raise ApiError(404, f"The emulator has no route for {method} {raw_path}.", "NOT_FOUND")

    def _control(self, method: str, path: str, raw_body: bytes) -> None:
        """Control endpoints: ``POST /_emulator/faults`` (a Fault as JSON), ``GET /_emulator/requests``,
        ``POST /_emulator/reset``."""
        plan = self.owner.plan
        if path == "/_emulator/faults" and method == "POST":
            spec = json.loads(raw_body or b"{}")
            plan.add(Fault(**{k: v for k, v in spec.items() if k in Fault.__dataclass_fields__}))
            self._send(200, {"ok": True})
        elif path == "/_emulator/requests" and method == "GET":
            log = [r.__dict__ for r in self.owner.requests]
            self._send(200, {"requests": log})
        elif path == "/_emulator/reset" and method == "POST":
            self.owner.clear_faults()
            self.owner.reset_log()
            self._send(200, {"ok": True})
        else:
            self._send(
                404, {"error": {"code": 404, "message": "Unknown control endpoint.", "status": "NOT_FOUND"}}
            )


def _create_spreadsheet(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v4/spreadsheets``: title and sheets from the body."""
    title = str(body.get("properties", {}).get("title", "Untitled spreadsheet"))
    book = store.create(title)
    requested = body.get("sheets") or []
    if requested:
        work = store.working_copy(book)
        adds = [{"addSheet": {"properties": s.get("properties", {})}} for s in requested]
        apply_requests(store, work, adds)
        work.sheets = work.sheets[1:]
        for i, sheet in enumerate(work.sheets):
            sheet.properties["index"] = i
        store.replace(work)
        book = work
    return spreadsheet_resource(book, store.caller_email, [], False, None)


def _route_sheets(
    store: Store,
    method: str,
    spreadsheet_id: str,
    rest: str,
    params: dict[str, list[str]],
    body: dict[str, Any],
) -> tuple[int, Any]:
    with store.lock:
        book = store.get(spreadsheet_id)
        if rest == "" and method == "GET":
            include = params.get("includeGridData", ["false"])[0].lower() == "true"
            fields = params.get("fields", [None])[0]
            return 200, spreadsheet_resource(
                book, store.caller_email, params.get("ranges", []), include, fields
            )
        if rest == ":batchUpdate" and method == "POST":
            return 200, batch_update(store, spreadsheet_id, body)
        if rest == "/values:batchGet" and method == "GET":
            return 200, values_api.batch_get(book, params)
        if rest in ("/values:batchUpdate", "/values:batchClear") and method == "POST":
            work = store.working_copy(book)
            fn = values_api.batch_update if rest.endswith("Update") else values_api.batch_clear
            answer = fn(work, body)
            store.replace(work)
            return 200, answer
        if rest.startswith("/values/"):
            encoded, _, action = rest[len("/values/") :].partition(":")
            text = urllib.parse.unquote(encoded)
            if action == "" and method == "GET":
                return 200, values_api.value_range(book, text, params)
            book.touch()
            if action == "" and method == "PUT":
                return 200, values_api.update(book, text, body, params)
            if action == "append" and method == "POST":
                return 200, values_api.append(book, text, body, params)
            if action == "clear" and method == "POST":
                cleared = values_api.clear(book, text)
                return 200, {"spreadsheetId": book.spreadsheet_id, "clearedRange": cleared}
    raise not_found()


def _route_drive(
    store: Store,
    method: str,
    file_id: str | None,
    is_copy: bool,
    params: dict[str, list[str]],
    body: dict[str, Any],
) -> tuple[int, Any]:
    if file_id is None:
        if method == "POST":
            return 200, drive.create(store, body)
        if method == "GET":
            return 200, drive.list_files(store, params)
    elif is_copy and method == "POST":
        return 200, drive.copy_file(store, file_id, body)
    elif method == "GET":
        return 200, drive.get(store, file_id, params)
    elif method == "DELETE":
        drive.delete(store, file_id)
        return 204, None
    raise not_found()
