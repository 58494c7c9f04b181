"""Text, JSON, numbers and dates from outside, made safe to store.

Everything that arrives (alert payloads, what people type into forms and the API) passes
through here before it reaches the database: PostgreSQL refuses NUL characters and text that
is not valid UTF-8 (a lone surrogate cannot be encoded), and a value no column or calendar can
hold must be refused by name or replaced, never discovered by the database as a 500 or a
"retry for ever". Pure functions, no Django state but settings.
"""

import json
import math
import re
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError

TRUNCATED = "…[truncated]"
# NUL (PostgreSQL refuses it in text and in jsonb) and UTF-16 surrogates (no UTF-8 form).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Line breaks and other C0/C1 controls: one-line fields (titles, names) get a space instead.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]+")
# Integers a JSON body may carry as numbers; longer digit strings stay strings (Python refuses
# to print integers beyond 4,300 digits, and no column holds them).
MAX_INT_DIGITS = 300
# Every integer column fits this (the 64-bit range); fields without their own bounds get it.
INT64 = (-(2**63), 2**63 - 1)


def clean_text(value: str) -> str:
    """Drop NUL, replace lone surrogates with U+FFFD: text PostgreSQL accepts."""
    if not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text says so at its end."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATED), 0)] + TRUNCATED


def one_line(text: str) -> str:
    """A title or name: controls (CR, LF, escape...) become single spaces."""
    return _CONTROLS.sub(" ", clean_text(text)).strip()


def _leaf(value, max_string: int | None):
    if isinstance(value, str):
        value = clean_text(value)
        return clip(value, max_string) if max_string else value
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_DIGITS * 3:
        return "[number too large]"
    return value


def clean_json(value, *, max_depth: int, max_string: int | None = None):
    """A copy of a parsed JSON value that any JSON column accepts: strings (keys included)
    cleaned and optionally clipped, NaN and infinities as strings, containers deeper than
    `max_depth` replaced by a marker. Iterative, so no depth can exhaust the stack."""
    root: list = [None]
    stack = [(value, root, 0, 1)]
    while stack:
        source, target, slot, depth = stack.pop()
        if isinstance(source, (dict, list)) and depth > max_depth:
            target[slot] = f"[nested deeper than {max_depth} levels]"
        elif isinstance(source, dict):
            copy: dict = {}
            target[slot] = copy
            for key, item in source.items():
                key = clean_text(str(key))
                copy[key] = None
                stack.append((item, copy, key, depth + 1))
        elif isinstance(source, list):
            copy_list: list = [None] * len(source)
            target[slot] = copy_list
            stack.extend((item, copy_list, i, depth + 1) for i, item in enumerate(source))
        else:
            target[slot] = _leaf(source, max_string)
    return root[0]


def json_depth(value) -> int:
    """How deep a parsed JSON value nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


class NestingError(ValueError):
    pass


def nesting_message(max_depth: int | None) -> str:
    return "The JSON is nested too deeply" + (f" (more than {max_depth} levels)." if max_depth else ".")


def _strict_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def loads(text: str | bytes, *, max_depth: int | None, strict: bool = False):
    """json.loads for bodies from outside: bytes decoded with invalid sequences replaced,
    NaN/Infinity and giant integers kept as strings, nesting beyond `max_depth` (or beyond what
    the parser's stack allows, whatever `max_depth` says) refused with NestingError. Raises
    ValueError for text that is not JSON (and, when `strict`, for NaN and Infinity)."""
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text), errors="replace")
    try:
        data = json.loads(text, parse_constant=_strict_constant if strict else str, strict=strict,  # not strict: raw control characters in strings
                          parse_int=lambda s: int(s) if len(s) <= MAX_INT_DIGITS else s)
    except RecursionError:
        raise NestingError(nesting_message(max_depth)) from None
    if max_depth is not None and json_depth(data) > max_depth:
        raise NestingError(nesting_message(max_depth))
    return data


# --- dates and numbers ------------------------------------------------------------------------


def year_range() -> tuple[int, int]:
    return settings.INPUT_MIN_YEAR, settings.INPUT_MAX_YEAR


def in_calendar(value: date | datetime | None) -> bool:
    """Within the years the portal accepts (INPUT_MIN_YEAR..INPUT_MAX_YEAR, in UTC for an
    aware datetime)."""
    if value is None:
        return True
    low, high = year_range()
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            return False
    return low <= value.year <= high


def validate_in_calendar(value) -> None:
    """A Django/DRF validator: dates and times between the configured years."""
    if not in_calendar(value):
        low, high = year_range()
        raise ValidationError(f"Enter a date between the years {low} and {high}.", code="out_of_range")


def validate_int64(value) -> None:
    if value is not None and not INT64[0] <= value <= INT64[1]:
        raise ValidationError("The number is out of range.", code="out_of_range")
