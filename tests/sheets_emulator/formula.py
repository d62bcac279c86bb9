"""A tiny formula evaluator: arithmetic on numbers and single-cell references, nothing more.

The project writes one kind of formula, HYPERLINK with literal texts (the Script column); the
recorded episodes use ``=1+1``, ``=4/2``, ``= 1 / 1024``. Anything
else evaluates to Google's ``#ERROR!`` / ``#NAME?`` style error values rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str], float] | None

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|(\$?[A-Za-z]{1,3}\$?\d+)|(.))")

ERROR_TEXT = {
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "ERROR": "#ERROR!",
    "NAME": "#NAME?",
    "REF": "#REF!",
    "VALUE": "#VALUE!",
}


class FormulaError(Exception):
    """Evaluation failed; ``kind`` is the API's ErrorType (``DIVIDE_BY_ZERO``, ``ERROR``, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for number, ref, other in _TOKEN.findall(text):
        if number:
            out.append(("num", number))
        elif ref:
            out.append(("ref", ref.replace("$", "")))
        elif other.strip():
            out.append(("op", other))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], lookup: Lookup) -> None:
        self.tokens = tokens
        self.pos = 0
        self.lookup = lookup

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise FormulaError("ERROR", "Formula parse error.")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            value = value + self.term() if op == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.power()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            right = self.power()
            if op == "/" and right == 0:
                raise FormulaError("DIVIDE_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero.")
            value = value * right if op == "*" else value / right
        return value

    def power(self) -> float:
        value = self.unary()
        while self.peek() == "^":
            self.take()
            value = value ** self.unary()
        return value

    def unary(self) -> float:
        if self.peek() in ("+", "-"):
            op = self.take()[1]
            inner = self.unary()
            return -inner if op == "-" else inner
        return self.atom()

    def atom(self) -> float:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "ref":
            if self.lookup is None:
                raise FormulaError("REF", f"Unresolved reference {text}.")
            return self.lookup(text)
        if text == "(":
            value = self.expr()
            if self.take()[1] != ")":
                raise FormulaError("ERROR", "Formula parse error.")
            return value
        raise FormulaError("ERROR", "Formula parse error.")


_HYPERLINK = re.compile(
    r'\s*HYPERLINK\(\s*"((?:[^"]|"")*)"\s*(?:,\s*"((?:[^"]|"")*)"\s*)?\)\s*', re.IGNORECASE
)


def evaluate(text: str, lookup: Lookup = None) -> float | str:
    """Evaluate the formula body (without ``=``); ints come back as ints. ``HYPERLINK("url", "label")``
    with literal texts gives its label (the url when there is none), as Sheets shows it."""
    link = _HYPERLINK.fullmatch(text)
    if link is not None:
        return (link.group(2) if link.group(2) is not None else link.group(1)).replace('""', '"')
    parser = _Parser(_tokens(text), lookup)
    value = parser.expr()
    if parser.pos != len(parser.tokens):
        raise FormulaError("ERROR", "Formula parse error.")
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value
