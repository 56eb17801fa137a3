"""Identifiers: the one rule every id follows on every path (model, columns, files, ledger).

An **id** (member, buyer, sharer, order, SKU, group, tier, rule, refund, withdrawal) is a
non-empty ``str`` that is already in its **normal form**: Unicode NFKC (全角 full-width
letters and digits folded to ASCII, compatibility look-alikes folded to their base letter)
and trimmed of surrounding white space, printable, and at most ``MAX_ID_LENGTH`` (200)
characters long. tuishou refuses an id that is not normal instead of
normalising it, because ids are keys in the platform's own database: quietly turning
``' D'`` into ``'D'`` would credit a member the backend cannot find, and quietly keeping
``' D'`` would treat a member as a guest and retain the whole pool. The message names the
value and its normal form, so the fix is one ``normalize`` call upstream.

>>> check_id("D", name="buyer_id")
'D'
>>> check_id("D ", name="buyer_id")
Traceback (most recent call last):
...
tuishou.errors.InvalidIdentifierError: buyer_id='D ' is not a normal id; use its normal form 'D' ...
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from tuishou.errors import ArgumentTypeError, InvalidIdentifierError

__all__ = [
    "MAX_ID_LENGTH",
    "all_ids",
    "check_id",
    "id_problem",
    "id_problems",
    "is_missing",
    "normal_id",
]

MAX_ID_LENGTH = 200
"""The longest id, in characters: ids are keys in the platform's database (the ledger's id
columns are ``VARCHAR(200)``; a PostgreSQL index entry holds at most ~2,700 bytes), and no
real order, member or SKU id comes near it. Longer ones are refused on every path, so an id
that settles also posts, on every database."""


def normal_id(value: str) -> str:
    """The normal form of an id: NFKC, then trimmed of white space.

    >>> normal_id("\\uff24 ")  # full-width D and a trailing space
    'D'
    """
    return unicodedata.normalize("NFKC", value).strip()


def id_problem(value: object, *, name: str) -> str | None:
    """One sentence saying why ``value`` is not a valid id, or None when it is one.

    >>> id_problem(" gift-pack-398", name="sku")
    "sku=' gift-pack-398' is not a normal id; use its normal form 'gift-pack-398' (NFKC, trimmed)"
    >>> print(id_problem("D\\u0307", name="buyer_id"))  # doctest: +ELLIPSIS
    buyer_id='...' is not a normal id; ... (NFKC, trimmed); escaped: 'D\\u0307' -> '\\u1e0a'
    >>> id_problem(7, name="order_id")
    'order_id=7 is a int; ids are text (str)'
    >>> print(id_problem("o" * 201, name="order_id"))  # doctest: +ELLIPSIS
    order_id='oooooooooooooooooooo'... is 201 characters long; ids are at most 200 (...
    """
    if not isinstance(value, str):
        return f"{name}={value!r} is a {type(value).__name__}; ids are text (str)"
    if len(value) > MAX_ID_LENGTH:
        return (
            f"{name}={value[:20]!r}... is {len(value)} characters long; ids are at most "
            f"{MAX_ID_LENGTH} (they are keys in the platform's database): use a shorter id"
        )
    if value.isascii() and value.isprintable() and value == value.strip():
        return None if value else f"{name}='' is empty; ids are non-empty text"
    normal = normal_id(value)
    if not normal:
        return f"{name}={value!r} is blank; ids are non-empty text"
    if normal != value:  # escaped forms too when look-alikes could hide the difference
        escaped = "" if value.isascii() else f"; escaped: {value!a} -> {normal!a}"
        return (
            f"{name}={value!r} is not a normal id; "
            f"use its normal form {normal!r} (NFKC, trimmed){escaped}"
        )
    if not value.isprintable():
        return f"{name}={value!r} holds a control character; ids are printable text"
    return None


def check_id(value: object, *, name: str) -> str:
    """Return ``value`` if it is a valid id; raise ``InvalidIdentifierError`` otherwise.

    A value that is not ``str`` raises ``ArgumentTypeError`` (a ``TypeError``).

    >>> check_id("Ｄ", name="member_id")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidIdentifierError: member_id='Ｄ' is not a normal id; ...
    """
    problem = id_problem(value, name=name)
    if problem is None:
        return value  # type: ignore[return-value]  # id_problem checked it is a str
    if not isinstance(value, str):
        raise ArgumentTypeError(problem)
    raise InvalidIdentifierError(problem)


def id_problems(values: Iterable[object], *, name: str) -> list[str]:
    """Every problem among distinct ``values`` (e.g. a column's uniques), one sentence each;
    missing values (None, NaN, pandas' NA) are skipped.

    >>> id_problems(["A", "B ", None, "A"], name="sku")[0]
    "sku='B ' is not a normal id; use its normal form 'B' (NFKC, trimmed)"
    """
    problems = []
    for value in dict.fromkeys(values):
        if is_missing(value):
            continue
        problem = id_problem(value, name=name)
        if problem is not None:
            problems.append(problem)
    return problems


def is_missing(value: object) -> bool:
    """An empty cell however it was read: None, a float NaN, pandas' ``NA`` or ``NaT``.

    >>> is_missing(None), is_missing(float("nan")), is_missing(""), is_missing("A")
    (True, True, False, False)
    """
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ in ("NAType", "NaTType")


def all_ids(values: list[object]) -> bool:
    """Whether every value is a valid id: one pass in C over the joined text, so a column of
    a million ids is checked in milliseconds (call ``id_problem`` per value only when not).

    >>> all_ids(["A", "张三", "m-1"]), all_ids(["A", "B "]), all_ids(["A", None]), all_ids([""])
    (True, False, False, False)
    """
    if not values or set(map(type, values)) != {str}:
        return not values
    texts: list[str] = values  # type: ignore[assignment]  # every value is a str
    joined = "\n".join(texts)  # a newline never composes, so NFKC works piece by piece
    # Printable NFKC text has no white space but ' ': look for it at the edges of every id.
    return (
        "" not in texts
        and max(map(len, texts)) <= MAX_ID_LENGTH
        and "".join(texts).isprintable()
        and unicodedata.is_normalized("NFKC", joined)
        and "\n " not in joined
        and " \n" not in joined
        and not joined.startswith(" ")
        and not joined.endswith(" ")
    )
