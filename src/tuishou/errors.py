"""The error hierarchy: one root, and every error is also the matching builtin.

``TuishouError`` is the root, so ``except TuishouError`` catches everything the library
raises on purpose. Each error also inherits the builtin a Python user would reach for
(``ValueError`` for bad data, ``KeyError`` for unknown names, ``TypeError`` for a float
where money belongs), so existing ``except ValueError`` code keeps working.

Bulk validators (a tree from records, a policy, a ladder) collect every problem and
raise once; ``.problems`` lists them, one sentence each. They share the base
``ProblemsError`` (``except ProblemsError as exc: exc.problems`` reads any of them).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "ArgumentTypeError",
    "DuplicateOrderError",
    "DuplicateRequestError",
    "FloatRefusedError",
    "InsufficientBalanceError",
    "InvalidArgumentError",
    "InvalidBindingError",
    "InvalidFileError",
    "InvalidIdentifierError",
    "InvalidInviteCodeError",
    "InvalidLadderError",
    "InvalidOrderError",
    "InvalidPolicyError",
    "InvalidTreeError",
    "InvariantError",
    "LedgerError",
    "MigrationError",
    "ProblemsError",
    "TuishouError",
    "UnknownGroupError",
    "UnknownMemberError",
    "UnknownOrderError",
    "UnknownTierError",
    "did_you_mean",
    "listing",
]


_SHOWN = 100  # problems spelled out in a message; .problems always holds every one
_SHOWN_CHARS = 300  # of one problem in a message (a cycle of 100 000 members is one problem)


class TuishouError(Exception):
    """Root of every error tuishou raises on purpose.

    >>> issubclass(InvalidTreeError, TuishouError)
    True
    """


class ProblemsError(TuishouError):
    """An error that carries a list of problems found by one bulk validation."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        super().__init__(message)

    @classmethod
    def from_problems(cls, what: str, problems: Sequence[str]) -> ProblemsError:
        """Build one error whose message lists the problems, numbered (``.problems`` has all,
        whole; the message shows the first 100, each cut to 300 characters).

        >>> error = InvalidTreeError.from_problems("invalid tree", ["x" * 1000])
        >>> len(str(error)) < 400, len(error.problems[0])
        (True, 1000)
        """
        lines = [f"{what}: {len(problems)} problem(s)"]
        lines += [f"  {i}. {_shortened(problem)}" for i, problem in enumerate(problems[:_SHOWN], 1)]
        if len(problems) > _SHOWN:
            lines.append(f"  ... and {len(problems) - _SHOWN} more: see the error's .problems")
        return cls("\n".join(lines), problems)


def _shortened(problem: str) -> str:
    if len(problem) <= _SHOWN_CHARS:
        return problem
    return (
        f"{problem[: _SHOWN_CHARS - 60]} ... [{len(problem)} characters; the whole "
        "problem is in the error's .problems]"
    )


class _KeyErrorMessage(KeyError):  # noqa: N818  (a mixin, not an error of its own)
    """KeyError quotes its argument in ``str()``; ours are sentences, so show them plainly."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidTreeError(ProblemsError, ValueError):
    """Records or a change that do not make a valid invite tree; ``.problems`` lists all.

    >>> err = InvalidTreeError.from_problems("invalid tree", ["member_id='' is empty"])
    >>> err.problems
    ("member_id='' is empty",)
    """


class InvalidPolicyError(ProblemsError, ValueError):
    """A commission policy that cannot be used as given; ``.problems`` lists all.

    >>> isinstance(InvalidPolicyError("budget 1.2 exceeds 1"), ValueError)
    True
    """


class InvalidLadderError(ProblemsError, ValueError):
    """A tier ladder that cannot be used as given; ``.problems`` lists all.

    >>> InvalidLadderError("duplicate tier 'mentor'").problems
    ("duplicate tier 'mentor'",)
    """


class InvalidOrderError(ProblemsError, ValueError):
    """An order or order line that cannot be settled as given; ``.problems`` lists all.

    >>> isinstance(InvalidOrderError("no lines"), ValueError)
    True
    """


class InvalidBindingError(ProblemsError, ValueError):
    """Customer bindings or binding events that cannot be used as given (a member bound to
    itself, overlapping bindings, an event out of time order); ``.problems`` lists all.

    >>> isinstance(InvalidBindingError("customer_id='B' is member_id"), ValueError)
    True
    """


class InvalidFileError(ProblemsError, ValueError):
    """Input files that cannot be used as given; each problem names the file, the line (or
    row) and the value. The message shows the first ``shown`` problems; ``.problems`` has all.

    >>> problems = [f"a.csv, line {n}: x" for n in range(2, 30)]
    >>> str(InvalidFileError.from_problems("bad input", problems)).splitlines()[-1]
    '  ... and 8 more problem(s)'
    """

    shown = 20  # a terminal page: enough to see the pattern, few enough to read

    @classmethod
    def from_problems(cls, what: str, problems: Sequence[str]) -> InvalidFileError:
        """One error listing the first ``shown`` problems, numbered, then how many more."""
        lines = [f"{what}: {len(problems)} problem(s)"]
        lines += [
            f"  {i}. {_shortened(problem)}" for i, problem in enumerate(problems[: cls.shown], 1)
        ]
        if len(problems) > cls.shown:
            lines.append(f"  ... and {len(problems) - cls.shown} more problem(s)")
        return cls("\n".join(lines), problems)


class InvalidArgumentError(TuishouError, ValueError):
    """An argument with a value that cannot be used: a negative amount, a rate above 1, ...

    >>> isinstance(InvalidArgumentError("amount=-1 is negative"), ValueError)
    True
    """


class InvalidIdentifierError(InvalidArgumentError):
    """An id (member, buyer, sharer, order, SKU, group, tier, ...) that is not in normal form.

    Ids must be non-empty, NFKC-normal and trimmed; the message names the normal form.

    >>> isinstance(InvalidIdentifierError("buyer_id=' D' is not a normal id"), ValueError)
    True
    """


class ArgumentTypeError(TuishouError, TypeError):
    """An argument of the wrong type, e.g. a dict where an ``Order`` belongs.

    >>> isinstance(ArgumentTypeError("order must be an Order"), TypeError)
    True
    """


class MigrationError(ProblemsError, ValueError):
    """A team migration refused as a whole; ``.problems`` names each entry and why.

    >>> MigrationError.from_problems("migration refused", ["entry 3: duplicate"]).problems
    ('entry 3: duplicate',)
    """


class LedgerError(ProblemsError, ValueError):
    """A ledger operation refused as a whole (nothing was recorded).

    >>> isinstance(LedgerError("refund of 3 x 'sku-1' but 2 remain"), ValueError)
    True
    """


class DuplicateOrderError(LedgerError):
    """An order id posted again with a different settlement (an identical one is a no-op).

    >>> issubclass(DuplicateOrderError, LedgerError)
    True
    """


class DuplicateRequestError(LedgerError):
    """A refund or withdrawal id used again for a different request.

    >>> issubclass(DuplicateRequestError, LedgerError)
    True
    """


class InsufficientBalanceError(LedgerError):
    """A withdrawal above the available balance (or below the minimum).

    >>> issubclass(InsufficientBalanceError, ValueError)
    True
    """


class FloatRefusedError(ArgumentTypeError):
    """A float where money or a rate belongs: floats cannot hold fen or rates exactly.

    >>> isinstance(FloatRefusedError("amount=0.1 is a float"), TypeError)
    True
    """


class InvalidInviteCodeError(TuishouError, ValueError):
    """An invite code that is malformed, mistyped or unknown.

    ``.reason`` is ``"malformed"``, ``"typo"`` (the check character does not match: a
    character was mistyped or two were swapped) or ``"unknown"`` (well formed, but
    nobody holds it). ``.suggestion`` is the one existing code a single slip away, if any.

    >>> InvalidInviteCodeError("code 'X' looks mistyped", reason="typo").reason
    'typo'
    """

    def __init__(self, message: str, *, reason: str, suggestion: str | None = None) -> None:
        self.reason = reason
        self.suggestion = suggestion
        super().__init__(message)


class UnknownMemberError(TuishouError, _KeyErrorMessage):
    """A member id that is not in the tree.

    >>> str(UnknownMemberError("member_id='bob' is not in the tree"))
    "member_id='bob' is not in the tree"
    """


class UnknownTierError(TuishouError, _KeyErrorMessage):
    """A tier name that the policy or ladder does not list.

    >>> isinstance(UnknownTierError("tier='boss' is unknown"), KeyError)
    True
    """


class UnknownGroupError(TuishouError, _KeyErrorMessage):
    """A product group that the policy has no pool rate for.

    >>> isinstance(UnknownGroupError("group='toys' is unknown"), KeyError)
    True
    """


class UnknownOrderError(TuishouError, _KeyErrorMessage):
    """An order id the ledger has not posted.

    >>> isinstance(UnknownOrderError("order 'o-9' was never posted"), KeyError)
    True
    """


class InvariantError(TuishouError, AssertionError):
    """A settlement that breaks one of docs/domain.md §14's invariants (see ``tuishou.invariants``).

    An ``AssertionError``, so test runners report it as a failed check. ``.invariant`` names
    the invariant (e.g. ``"conservation"``), ``.order_id`` the order.

    >>> error = InvariantError("conservation: ...", invariant="conservation", order_id="o1")
    >>> isinstance(error, AssertionError), error.invariant
    (True, 'conservation')
    """

    def __init__(self, message: str, *, invariant: str, order_id: str) -> None:
        self.invariant = invariant
        self.order_id = order_id
        super().__init__(message)


def listing(items: Sequence[str], sep: str = ", ", *, shown: int = 10) -> str:
    """The first ``shown`` offenders of a bulk check joined by ``sep``, then "and N more":
    how every message that names many bad values names them.

    >>> listing([str(i) for i in range(12)])
    '0, 1, 2, 3, 4, 5, 6, 7, 8, 9, and 2 more'
    """
    more = f"{sep}and {len(items) - shown} more" if len(items) > shown else ""
    return sep.join(items[:shown]) + more


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return a hint naming the closest known names, or listing a few if none is close.

    >>> did_you_mean("mentr", ["member", "mentor", "pusher"])
    "did you mean 'mentor'?"
    >>> did_you_mean("zzz", ["a", "b"])
    "known: 'a', 'b'"
    """
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not known:
        return "none are known"
    shown = ", ".join(repr(k) for k in known[:8])
    return f"known: {shown}" + (f" and {len(known) - 8} more" if len(known) > 8 else "")
