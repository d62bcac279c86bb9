"""Phone numbers: parse what staff or a phone export typed, compare by a normalised form.

What staff typed is never rewritten; the normalised E.164 form (plus any extension) is only used to
compare numbers (repeat callers, duplicates) and to check that a number is plausible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers


@dataclass(frozen=True, slots=True)
class Phone:
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
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise PhoneError("phone number is not readable") from None
    if not phonenumbers.is_valid_number(number):
        if phonenumbers.is_possible_number(number):
            raise PhoneError("phone number does not exist (check the digits)")
        raise PhoneError("phone number has the wrong number of digits")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, extension=number.extension or None)


def phone_key(text: object, region: str) -> str | None:
    """The comparison key of a number, or None when it cannot be parsed."""
    try:
        return parse_phone(text, region).key
    except PhoneError:
        return None
