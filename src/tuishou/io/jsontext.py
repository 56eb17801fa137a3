"""JSON as tuishou reads it (policies, JSON Lines): what Python's ``json`` takes that is not a
value tuishou can name or use is refused, with tuishou's words.

- **repeated key**: Python's ``json`` keeps the last of two equal keys, silently; a policy or
  an order line that names a rate or an amount twice is ambiguous, so it is refused, naming
  the key and both values.
- **NaN, Infinity, -Infinity**: not JSON (RFC 8259), though Python reads them: refused.
- **a number too long**: Python refuses to read an integer of more than 4,300 digits (see
  ``sys.get_int_max_str_digits``); it is refused with its first and last digits and its
  length. (No amount or count tuishou takes has more than 19 digits.)
- **a lone surrogate**: ``"\\ud800"`` without its pair is no character; text that holds one
  cannot be written as UTF-8 (nor stored by pyarrow), so it is refused.

Every refusal is a :class:`RefusedJsonError` (a ``ValueError``); the reader adds the file and
line. Long values are shortened in messages (:func:`shown`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["RefusedJsonError", "RepeatedKeyError", "loads", "shown"]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only escapes make surrogates


class RefusedJsonError(ValueError):
    """JSON that Python reads but tuishou refuses; the message names the value."""


class RepeatedKeyError(RefusedJsonError):
    """A JSON object that names a key twice; the message names the key and its values."""


def loads(text: str) -> Any:
    """``json.loads`` that refuses what the module lists: a key named twice, NaN and
    Infinity, a number too long for Python, a lone surrogate.

    >>> loads('{"amount": 100}')
    {'amount': 100}
    >>> loads('{"amount": 100, "amount": 5}')
    Traceback (most recent call last):
    ...
    tuishou.io.jsontext.RepeatedKeyError: the key 'amount' appears twice in one object (100, then 5)
    >>> loads('{"amount": NaN}')
    Traceback (most recent call last):
    ...
    tuishou.io.jsontext.RefusedJsonError: NaN is not a JSON number (RFC 8259); write a number
    >>> loads('{"order_id": "o\\\\ud800"}')
    Traceback (most recent call last):
    ...
    tuishou.io.jsontext.RefusedJsonError: the text 'o\\ud800' holds '\\ud800', half of a ...
    """
    try:
        data = json.loads(text, object_pairs_hook=_unique, parse_constant=_constant)
    except (json.JSONDecodeError, RefusedJsonError):
        raise
    except ValueError:  # an integer too long for int(): read again, naming it
        data = json.loads(
            text, object_pairs_hook=_unique, parse_constant=_constant, parse_int=_integer
        )
    if _SURROGATE_ESCAPE.search(text):
        for value in _strings(data):
            _no_surrogate(value)
    return data


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, its middle cut out when it is longer than ``limit`` characters.

    >>> shown("o-1001")
    "'o-1001'"
    >>> shown("9" * 5000)
    "'9999999999999999999999999999…9999999999999999999999999999' (5,000 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    size = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[:half]}…{text[-half:]} ({size:,} characters)"


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RepeatedKeyError(
                f"the key {shown(key)} appears twice in one object "
                f"({shown(found[key])}, then {shown(value)})"
            )
        found[key] = value
    return found


def _constant(name: str) -> Any:
    raise RefusedJsonError(f"{name} is not a JSON number (RFC 8259); write a number")


def _integer(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:
        most = sys.get_int_max_str_digits()
        shortened = digits if len(digits) <= 24 else f"{digits[:10]}…{digits[-10:]}"
        raise RefusedJsonError(
            f"the number {shortened} has {len(digits.lstrip('-')):,} digits, more than the "
            f"{most:,} a number may have; no amount or count has more than 19"
        ) from None


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value: keys and values, at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _no_surrogate(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        half = text[exc.start]
        raise RefusedJsonError(
            f"the text {shown(text)} holds {half!r}, half of a UTF-16 pair without its other "
            "half, which is no character; write the character itself (or both halves)"
        ) from None
