"""Phone numbers: parse what staff or a phone export typed, compare by a normalised form.

What staff typed is never rewritten; the normalised E.164 form (plus any extension) is only used to
compare numbers (repeat callers, duplicates) and to check that a number is plausible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Phone:
    """A readable phone number: its E.164 form and any extension."""

    e164: str  # "+13125550142"
    extension: str | None

    @property
    def key(self) -> str:
        """The form used to compare two numbers."""
        return f"{self.e164};ext={self.extension}" if self.extension else self.e164


class PhoneError(ValueError):
    """The text is not a usable phone number; the message says why in plain words."""


@lru_cache(maxsize=65536)
def parse_phone(text: object, region: str) -> Phone:
    """Parse a number as typed (any format, extension kept); raise PhoneError if it is not valid."""
    raw = str(text).strip() if text is not None else ""
    if isinstance(text, float) and text.is_integer():
        raw = str(int(text))  # a number cell that lost its formatting
    if not raw:
        raise PhoneError("phone number is missing")
    lib = numbers_lib()
    try:
        number = lib.parse(raw, region)
    except lib.NumberParseException:
        raise PhoneError("phone number is not readable") from None
    if not lib.is_valid_number(number):
        if lib.is_possible_number(number):
            raise PhoneError("phone number does not exist (check the digits)")
        raise PhoneError("phone number has the wrong number of digits")
    e164 = lib.format_number(number, lib.PhoneNumberFormat.E164)
    return Phone(e164=e164, extension=number.extension or None)


def phone_key(text: object, region: str) -> str | None:
    """The comparison key of a number, or None when it cannot be parsed."""
    try:
        return parse_phone(text, region).key
    except PhoneError:
        return None


def supported_regions() -> frozenset[str]:
    """The region codes numbers can be read for ("US", "MX", ...): what ``[clinic] phone_region`` takes."""
    return frozenset(numbers_lib().SUPPORTED_REGIONS)


@cache
def numbers_lib() -> Any:
    """``phonenumbers.phonenumberutil``: parsing, validation and formatting, which is all this tool uses.

    The package's ``__init__`` also imports its as-you-type formatter, its text matcher and its short
    number data (about 5 ms of each command's start, mostly regular expressions compiled). When the
    package is not imported yet, it is put in ``sys.modules`` unexecuted (its own spec: its path, file
    and loader) and only ``phonenumberutil`` with what it imports is loaded; the first name asked of the
    package itself (``import phonenumbers; phonenumbers.parse``, ``from phonenumbers import ...``) runs
    its ``__init__`` then, so a library user sees the whole package. Should any of this fail (another
    layout of the package), the package is imported as usual."""
    import sys

    if "phonenumbers" not in sys.modules:
        try:
            return _util_alone()
        except Exception:  # any layout change of the package: the usual import below
            for name in [m for m in sys.modules if m == "phonenumbers" or m.startswith("phonenumbers.")]:
                del sys.modules[name]
    import phonenumbers.phonenumberutil

    return phonenumbers.phonenumberutil


def _util_alone() -> Any:
    import importlib
    import importlib.util
    import sys

    spec = importlib.util.find_spec("phonenumbers")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError("phonenumbers")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def complete(name: str) -> Any:
        """PEP 562: the package's ``__init__`` runs on the first name asked that it has not got yet."""
        del package.__dict__["__getattr__"]
        try:
            loader.exec_module(package)
        except BaseException:
            del sys.modules["phonenumbers"]
            raise
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'phonenumbers' has no attribute {name!r}") from None

    package.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules["phonenumbers"] = package
    return importlib.import_module("phonenumbers.phonenumberutil")
