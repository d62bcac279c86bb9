"""Google's error responses: ``{"error": {"code", "message", "status"}}``."""

from __future__ import annotations

from typing import Any

STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error the emulator answers with, in Google's JSON shape."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_TEXT.get(code, "UNKNOWN")
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends for this error."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def not_found() -> ApiError:
    """Unknown spreadsheet (or file) id."""
    return ApiError(404, "Requested entity was not found.")


def bad_request(message: str) -> ApiError:
    """A 400 INVALID_ARGUMENT."""
    return ApiError(400, message)


def unable_to_parse(text: str) -> ApiError:
    """The message Google gives for a range it cannot parse."""
    return ApiError(400, f"Unable to parse range: {text}")
