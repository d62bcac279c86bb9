"""The library's exceptions. Only the CLI turns them into messages and exit codes."""


class CallbackSheetsError(Exception):
    """Base class: the message is one line that says what is wrong and what to do."""

    exit_code = 1


class ConfigError(CallbackSheetsError):
    """The configuration file is missing, unreadable or holds a wrong value."""

    exit_code = 2


class UsageError(CallbackSheetsError):
    """A command was called with arguments that cannot work."""

    exit_code = 2


class WorkbookBusyError(CallbackSheetsError):
    """The workbook is open elsewhere or another run holds its lock."""


class WorkbookChangedError(CallbackSheetsError):
    """The workbook kept changing under us; nothing was written."""


class BackendError(CallbackSheetsError):
    """The spreadsheet could not be read or written (missing file, no access, API failure)."""


class NotFoundError(CallbackSheetsError):
    """A queue item, tab or column named by the user does not exist."""


class RefusedError(CallbackSheetsError):
    """The command would do the wrong thing to this item (closed, attempts used up); the message says
    what to do instead. Nothing was written."""
