"""Point unmodified gspread at the emulator: a requests transport adapter that rewrites Google's hosts."""

from __future__ import annotations

from typing import Any

import gspread
import requests
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from requests.adapters import HTTPAdapter

GOOGLE_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")


class EmulatorAdapter(HTTPAdapter):
    """Sends ``https://sheets.googleapis.com/...`` and ``https://www.googleapis.com/...`` to ``base_url``."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        for host in GOOGLE_HOSTS:
            if url.startswith(host):
                request.url = self.base_url + url[len(host) :]
                break
        return super().send(request, *args, **kwargs)


def mount_emulator(session: requests.Session, base_url: str) -> requests.Session:
    """Route a session's Google API traffic to the emulator (works for any session, e.g. authorised)."""
    adapter = EmulatorAdapter(base_url)
    for host in GOOGLE_HOSTS:
        session.mount(host, adapter)
    return session


def emulator_session(base_url: str) -> requests.Session:
    """An ``AuthorizedSession`` with anonymous credentials whose Google traffic goes to the emulator."""
    return mount_emulator(AuthorizedSession(AnonymousCredentials()), base_url)  # type: ignore[no-untyped-call]


def gspread_client(base_url: str) -> gspread.Client:
    """A stock ``gspread.Client`` talking to the emulator at ``base_url``."""
    return gspread.Client(auth=None, session=emulator_session(base_url))  # type: ignore[arg-type]
