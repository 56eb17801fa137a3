"""JSON as tuishou reads it (policies, JSON Lines): an object names each key once.

Python's ``json`` keeps the last of two equal keys, silently; a policy or an order line that
names a rate or an amount twice is ambiguous, so it is refused, naming the key and both values.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["RepeatedKeyError", "loads"]


class RepeatedKeyError(ValueError):
    """A JSON object that names a key twice; the message names the key and its values."""


def loads(text: str) -> Any:
    """``json.loads`` that refuses an object naming a key twice.

    >>> loads('{"amount": 100}')
    {'amount': 100}
    >>> loads('{"amount": 100, "amount": 5}')
    Traceback (most recent call last):
    ...
    tuishou.io.jsontext.RepeatedKeyError: the key 'amount' appears twice in one object (100, then 5)
    """
    return json.loads(text, object_pairs_hook=_unique)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RepeatedKeyError(f"the key {key!r} appears twice in one object "
                                   f"({found[key]!r}, then {value!r})")
        found[key] = value
    return found
