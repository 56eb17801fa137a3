"""Invite codes (邀请码): short, typo-proof, reproducible.

A code is six payload characters and one check character from a 31-character alphabet
with no look-alikes (no 0/O, 1/I, and no Z beside 2, which also makes the alphabet size the
prime 31). The check character makes ``sum(position * value) ≡ 0 (mod 31)`` over the
whole code, with positions 1..7. Because 31 is prime and every weight is non-zero and
below 31, any single mistyped character changes the sum, and swapping two neighbours
changes it by their difference: both are always caught, and reported as a typo rather
than an unknown code.

Codes are derived from the member id with a keyed hash (BLAKE2b), so the same tree gives
the same codes on every machine and run; a collision takes the next candidate.
Input is forgiving: case, spaces and hyphens are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator

from tuishou.errors import ArgumentTypeError, InvalidInviteCodeError, InvalidTreeError

__all__ = ["ALPHABET", "CODE_LENGTH", "CodeBook", "candidate_codes", "check_code", "normalise_code"]

# 31 symbols, a prime: digits without 0/1, letters without I/O (look-alikes) and Z (like 2).
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXY"
_BASE = len(ALPHABET)
_VALUE = {char: i for i, char in enumerate(ALPHABET)}
PAYLOAD_LENGTH = 6
CODE_LENGTH = PAYLOAD_LENGTH + 1


def normalise_code(text: str) -> str:
    """Upper-case a typed code and drop spaces and hyphens.

    >>> normalise_code(" ab3-d5e f ")
    'AB3D5EF'
    """
    return "".join(text.split()).replace("-", "").upper()


def _checksum(values: list[int]) -> int:
    return sum(position * value for position, value in enumerate(values, 1)) % _BASE


def _with_check(payload: str) -> str:
    values = [_VALUE[char] for char in payload]
    # Solve (s + CODE_LENGTH * c) ≡ 0 (mod 31) for the check value c.
    check = (-_checksum(values) * pow(CODE_LENGTH, -1, _BASE)) % _BASE
    return payload + ALPHABET[check]


def candidate_codes(member_id: str) -> Iterator[str]:
    """Yield the codes a member may get, best first; the caller takes the first free one.

    >>> code = next(candidate_codes("alice"))
    >>> len(code), check_code(code) == code
    (7, True)
    """
    counter = 0
    while True:
        digest = hashlib.blake2b(
            f"{member_id}\x00{counter}".encode(), digest_size=8, person=b"tuishou-invite"
        ).digest()
        number = int.from_bytes(digest, "big")
        payload = ""
        for _ in range(PAYLOAD_LENGTH):
            number, digit = divmod(number, _BASE)
            payload += ALPHABET[digit]
        yield _with_check(payload)
        counter += 1


def check_code(text: str, is_known: Callable[[str], bool] | None = None) -> str:
    """Return the normalised code, or raise ``InvalidInviteCodeError`` saying what is wrong.

    With ``is_known``, a code that fails its check is compared with the known codes one
    slip away (one character changed, or two neighbours swapped) to suggest the right one.

    >>> check_code(next(candidate_codes("alice"))) == next(candidate_codes("alice"))
    True
    >>> check_code("ABCDEFG")
    Traceback (most recent call last):
    ...
    tuishou.errors.InvalidInviteCodeError: invite code 'ABCDEFG' looks mistyped: ...
    >>> check_code(None)
    Traceback (most recent call last):
    ...
    tuishou.errors.ArgumentTypeError: invite_code=None is a NoneType; pass the inviter's ...
    """
    if not isinstance(text, str):
        raise ArgumentTypeError(
            f"invite_code={text!r} is a {type(text).__name__}; pass the "
            "inviter's 7-character code as text"
        )
    code = normalise_code(text)
    bad = sorted({char for char in code if char not in _VALUE})
    if bad or len(code) != CODE_LENGTH:
        reason = (
            f"has characters codes never use: {''.join(bad)!r}"
            if bad
            else f"has {len(code)} characters, codes have {CODE_LENGTH}"
        )
        raise InvalidInviteCodeError(
            f"invite code {text!r} {reason} (codes use {ALPHABET})", reason="malformed"
        )
    if _checksum([_VALUE[char] for char in code]) != 0:
        suggestion = _nearest_known(code, is_known) if is_known else None
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise InvalidInviteCodeError(
            f"invite code {text!r} looks mistyped: its check character does not match "
            f"(a character was mistyped or two were swapped){hint}",
            reason="typo",
            suggestion=suggestion,
        )
    return code


def _nearest_known(code: str, is_known: Callable[[str], bool]) -> str | None:
    found = {c for c in _one_slip_away(code) if is_known(c)}
    return found.pop() if len(found) == 1 else None


def _one_slip_away(code: str) -> Iterator[str]:
    for i in range(len(code)):
        for char in ALPHABET:
            if char != code[i]:
                yield code[:i] + char + code[i + 1 :]
    for i in range(len(code) - 1):
        yield code[:i] + code[i + 1] + code[i] + code[i + 2 :]


class CodeBook:
    """Every member's invite code, assigned when first needed (package-internal: the tree's).

    Codes given on import (``supply``) are kept as they are. The others are assigned the first
    time any code is asked for: supplied codes first, then generated ones in id order, so the
    codes do not depend on the order members arrived in. Members added later get theirs at once.

    >>> book = CodeBook()
    >>> book.codes(["alice"])["alice"] == next(candidate_codes("alice"))
    True
    >>> book.owner(book.codes(["alice"])["alice"].lower(), ["alice"])
    'alice'
    """

    __slots__ = ("_code_of", "_owner_of", "_supplied")

    def __init__(self) -> None:
        self._supplied: dict[str, str] = {}  # codes given on import, kept as they are
        self._code_of: dict[str, str] | None = None  # all codes, once assigned
        self._owner_of: dict[str, str] = {}

    def add(self, member_id: str, supplied: str | None) -> None:
        """Record a new member (and the code it brings); gives it a code if codes exist."""
        if supplied is not None:
            self._supplied[member_id] = check_code(supplied)
        if self._code_of is not None:
            self._give(self._code_of, member_id, self._supplied.get(member_id))

    def discard(self, member_id: str) -> None:
        """Forget a removed member's code."""
        self._supplied.pop(member_id, None)
        if self._code_of is not None:
            del self._owner_of[self._code_of.pop(member_id)]

    def codes(self, members: Collection[str]) -> dict[str, str]:
        """Every member's code (``members``: all the tree's ids, to assign the missing ones)."""
        if self._code_of is None:
            book: dict[str, str] = {}
            for member, code in self._supplied.items():
                self._give(book, member, code)
            for member in sorted(m for m in members if m not in self._supplied):
                self._give(book, member, None)
            self._code_of = book
        return self._code_of

    def owner(self, invite_code: str, members: Collection[str]) -> str:
        """Who holds ``invite_code``, or ``InvalidInviteCodeError`` saying why nobody does."""
        self.codes(members)
        code = check_code(invite_code, self._owner_of.__contains__)
        owner = self._owner_of.get(code)
        if owner is None:
            raise InvalidInviteCodeError(
                f"invite code {invite_code!r} is well formed but nobody holds it; "
                "ask the inviter to copy their code again",
                reason="unknown",
            )
        return owner

    def check_free(self, invite_code: str, members: Collection[str]) -> None:
        """``InvalidTreeError`` if a member already holds ``invite_code``."""
        code = check_code(invite_code)
        self.codes(members)
        if code in self._owner_of:
            holder = self._owner_of[code]
            raise InvalidTreeError(f"invite_code={invite_code!r} is already held by {holder!r}")

    def _give(self, book: dict[str, str], member_id: str, supplied: str | None) -> None:
        code = (
            check_code(supplied)
            if supplied is not None
            else next(c for c in candidate_codes(member_id) if c not in self._owner_of)
        )
        book[member_id] = code
        self._owner_of[code] = member_id
