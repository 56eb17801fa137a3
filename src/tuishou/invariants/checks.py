"""The invariant checks of a settlement (docs/domain.md §14), in the order they run.

``check_settlement`` runs them on one settlement; each check reads a ``Case``
(``tuishou.invariants.case``) and returns None when its invariant holds, else what is wrong.
``INVARIANTS`` names them in order; the list with their meaning is in ``tuishou.invariants``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

from tuishou.bindings import Bindings
from tuishou.errors import ArgumentTypeError, InvariantError
from tuishou.invariants.case import Case, bound_at, difference, fen, money_of
from tuishou.orders import Order
from tuishou.policy_versions import PolicyVersions
from tuishou.rules import DifferentialRule, Policy
from tuishou.settlement import Settlement, paid_order, resettle, settle
from tuishou.tree import InviteTree

__all__ = ["INVARIANTS", "check_settlement"]


def check_settlement(
    policy: Policy | PolicyVersions,
    tree: InviteTree,
    order: Order,
    settlement: Settlement,
    *,
    bindings: Bindings | None = None,
) -> None:
    """Check docs/domain.md §14 on ``settlement``; raise ``InvariantError`` for the first failure.

    ``bindings`` are the customer bindings the order was settled with (docs/domain.md §16).

    Under ``PolicyVersions`` the settlement must name the version in force at the order's
    ``paid_at`` (else the ``inputs`` invariant fails), and is checked under its policy.

    ``InvariantError`` is an ``AssertionError`` whose ``.invariant`` names the invariant
    (see ``INVARIANTS``); the message gives the order id and the numbers.

    >>> from dataclasses import replace
    >>> from tuishou import InviteTree, Order, OrderLine, settle
    >>> from tuishou.cli.demo import example_policy
    >>> policy = example_policy()
    >>> tree = InviteTree.from_records([
    ...     {"member_id": "A", "inviter_id": None, "tier": "mentor"},
    ...     {"member_id": "B", "inviter_id": "A", "tier": "pusher"}])
    >>> order = Order(order_id="o1", buyer_id="B",
    ...               lines=[OrderLine(sku="kettle", group="ecosystem", amount=9900)])
    >>> result = settle(policy, tree, order)
    >>> check_settlement(policy, tree, order, result)  # nothing to report
    >>> broken = replace(result, retained=result.retained - 1)
    >>> check_settlement(policy, tree, order, broken)
    Traceback (most recent call last):
    ...
    tuishou.errors.InvariantError: conservation: order 'o1' pool 1980 fen ≠ paid 1287 + retained 692
    """
    if isinstance(policy, PolicyVersions) and isinstance(order, Order):
        policy, settlement = _under_version(policy, order, settlement)
    _check_types(policy, tree, order, settlement)
    if bindings is not None and not isinstance(bindings, Bindings):
        raise ArgumentTypeError(f"bindings is a {type(bindings).__name__}, expected Bindings")
    case = Case(policy, tree, order, settlement, bindings)
    for invariant, check in _CHECKS:
        problem = check(case)
        if problem is not None:
            raise InvariantError(
                f"{invariant}: order {order.order_id!r} {problem}",
                invariant=invariant,
                order_id=order.order_id,
            )


# ------------------------------------------------------------------------------- the checks
# Each returns None when the invariant holds, else what is wrong (after "order 'o1' ").


def _inputs(case: Case) -> str | None:
    got = case.settlement
    if got.order_id != case.order.order_id:
        return f"was checked against the settlement of order {got.order_id!r}"
    if got.policy != case.policy:
        return f"was settled under another policy than the one given ({got.policy.name!r})"
    return None


def _amounts(case: Case) -> str | None:
    for p in case.settlement.payouts:
        if isinstance(p.amount, bool) or not isinstance(p.amount, int) or p.amount <= 0:
            return (
                f"pays {p.member_id!r} {p.amount!r} fen by rule {p.rule!r}; every payout "
                "must be a whole number of fen above 0"
            )
    return None


def _pool(case: Case) -> str | None:
    pieces = case.line_pools if case.per_line else [case.exact_pool]
    expected = sum(case.rounded(piece) for piece in pieces) + case.fixed_pool
    if case.settlement.pool != expected:
        how = f"{case.policy.rounding}, per {case.policy.rounding_scope}"
        fixed = f" plus {case.fixed_pool} fen of fixed amounts" if case.fixed_pool else ""
        return (
            f"pool {case.settlement.pool} fen, but its lines give {fen(case.exact_pool)} "
            f"fen, which rounds ({how}) to {expected - case.fixed_pool}{fixed}"
        )
    return _fixed_lines(case)


def _fixed_lines(case: Case) -> str | None:
    """A fixed line's part of the pool is its fixed shares; each payout's fixed part is the
    fixed shares paid to it (docs/domain.md §17)."""
    got = case.settlement
    for index, line in enumerate(got.lines):
        shares = sum(f.amount for f in got.fixed_shares if f.line == index)
        if line.fixed != shares:
            return f"line {index + 1} ({line.sku}) has fixed {line.fixed} fen, its shares {shares}"
    for p in got.payouts:
        paid = sum(
            f.amount
            for f in got.fixed_shares
            if f.paid
            and (f.member_id, f.rule, f.kind, f.generation)
            == (p.member_id, p.rule, p.kind, p.generation)
        )
        if p.fixed != paid:
            return f"pays {p.member_id!r} a fixed part of {p.fixed} fen, its fixed shares {paid}"
    return None


def _conservation(case: Case) -> str | None:
    got = case.settlement
    paid = sum(p.amount for p in got.payouts)
    if paid + got.retained != got.pool:
        return f"pool {got.pool} fen ≠ paid {paid} + retained {got.retained}"
    return None


def _retained(case: Case) -> str | None:
    got = case.settlement
    if got.retained < 0:
        return f"retains {got.retained} fen, below 0 (pool {got.pool}, paid {got.paid})"
    return None


def _max_generation(case: Case) -> str | None:
    limit = case.policy.max_generation
    for p in case.settlement.payouts:
        if not 0 <= p.generation <= limit:
            return (
                f"pays {p.member_id!r} {p.amount} fen at generation {p.generation}, "
                f"outside 0..max_generation={limit}"
            )
    return None


def _suspended(case: Case) -> str | None:
    for p in case.settlement.payouts:
        if p.member_id in case.tree and case.tree.status(p.member_id) == "suspended":
            return (
                f"pays {p.member_id!r} {p.amount} fen by rule {p.rule!r}, but "
                f"{p.member_id!r} is suspended"
            )
    return None


def _chain(case: Case) -> str | None:
    chain = case.chain
    seller = chain[0] if chain else None
    if case.settlement.seller_id != seller:
        return (
            f"credits seller {case.settlement.seller_id!r}, but docs/domain.md §6 gives {seller!r}"
        )
    problem = _binding(case)
    if problem is not None:
        return problem
    for p in case.settlement.payouts:
        expected = chain[p.generation] if p.generation < len(chain) else None
        if p.member_id != expected:
            shown = " > ".join(chain) or "nobody"
            return (
                f"pays {p.member_id!r} {p.amount} fen at generation {p.generation}, but "
                f"the chain there is {expected!r} (chain: {shown})"
            )
    return None


def _binding(case: Case) -> str | None:
    """A seller credited by a binding names the binding in force (docs/domain.md §16)."""
    got = case.settlement
    bound = bound_at(case.order, case.bindings) if got.attribution == "binding" else None
    if got.binding != bound or (got.attribution == "binding") != (bound is not None):
        return (
            f"records attribution {got.attribution!r} and binding {got.binding!r}, but the "
            f"binding in force at paid_at is {bound!r}"
        )
    return None


def _rules(case: Case) -> str | None:
    rules = {rule.name: rule for rule in case.policy.rules}
    for p in case.settlement.payouts:
        rule = rules.get(p.rule)
        if rule is None:
            return (
                f"pays {p.member_id!r} by rule {p.rule!r}, which policy "
                f"{case.policy.name!r} does not have"
            )
        if p.kind not in rule.pays:  # the kinds a rule kind declares, not its walk
            return f"pays {p.member_id!r} a {p.kind!r} payout by {rule.kind} rule {p.rule!r}"
    return None


def _peer_max(case: Case) -> str | None:
    # Stated on the payouts, independently of the differential walk (tuishou.rulebook): a
    # check that re-ran the walk could not catch a bug in it.
    for rule in case.policy.rules:
        if isinstance(rule, DifferentialRule):
            peers = [
                p
                for p in case.settlement.payouts
                if p.rule == rule.name and p.kind == "peer" and p.share > 0
            ]  # a fixed line's walk pays its own peers, at most peer_max per line (§17)
            lines = {f.line for f in case.settlement.fixed_shares}
            fixed_peers = max(
                (
                    sum(
                        1
                        for f in case.settlement.fixed_shares
                        if f.line == line and f.rule == rule.name and f.kind == "peer"
                    )
                    for line in lines
                ),
                default=0,
            )
            if fixed_peers > rule.peer_max:
                return (
                    f"pays {fixed_peers} fixed peer bonuses by rule {rule.name!r} on one line, "
                    f"more than peer_max={rule.peer_max}"
                )
            if len(peers) > rule.peer_max:
                names = ", ".join(repr(p.member_id) for p in peers)
                return (
                    f"pays {len(peers)} peer bonuses by rule {rule.name!r} ({names}), "
                    f"more than peer_max={rule.peer_max}"
                )
    return None


def _budget(case: Case) -> str | None:
    total = Fraction(0)
    for rule in case.policy.rules:
        share = sum(
            (Fraction(p.share) for p in case.settlement.payouts if p.rule == rule.name), Fraction(0)
        )
        if share > rule.max_share():
            return (
                f"pays {fen(share)} of the pool by rule {rule.name!r}, more than its "
                f"largest share {rule.max_share()}"
            )
        total += share
    if total > case.policy.budget():
        return f"pays {fen(total)} of the pool, more than the budget {case.policy.budget()}"
    return _fixed_budget(case)


def _fixed_budget(case: Case) -> str | None:
    """A fixed line pays at most its schedule's fixed budget per unit, and (unless the policy
    allows more) at most the line's amount (docs/domain.md §17)."""
    for index, line in enumerate(case.order.lines):
        if not case.policy.is_fixed(line.sku):
            continue
        paid = sum(f.amount for f in case.settlement.fixed_shares if f.line == index)
        most = case.policy.fixed_budget(line.sku, line.quantity) * line.quantity
        if paid > most:
            return f"pays {paid} fen of fixed amounts on sku {line.sku!r}, above its budget {most}"
        if paid > line.amount and not case.policy.allow_fixed_above_amount:
            return f"pays {paid} fen of fixed amounts on sku {line.sku!r}, paid {line.amount}"
    return None


def _rounding(case: Case) -> str | None:
    return _each_payout_rounded(case) or _total_rounded(case)


def _each_payout_rounded(case: Case) -> str | None:
    roundings = len(case.order.lines) if case.per_line else 1  # each moves it by < 1 fen
    floor = case.policy.rounding == "floor"
    for p in case.settlement.payouts:
        exact = Fraction(p.share) * case.exact_pool
        low = math.floor(exact - roundings) + 1
        high = math.floor(exact) if floor else math.ceil(exact + roundings) - 1
        if not low <= p.amount - p.fixed <= high:  # fixed parts are whole: never rounded
            allowed = f"{low}" if low == high else f"{low} to {high}"
            return (
                f"pays {p.member_id!r} {p.amount} fen by rule {p.rule!r}, but its exact "
                f"share is {fen(exact)} fen, which rounds ({case.policy.rounding}, per "
                f"{case.policy.rounding_scope}) to {allowed} fen"
            )
    return None


def _total_rounded(case: Case) -> str | None:
    shares = sum((Fraction(s.share) for s in case.settlement.shares if s.paid), Fraction(0))
    pieces = case.line_pools if case.per_line else [case.exact_pool]
    exact = shares * case.exact_pool
    paid = case.settlement.paid - sum(p.fixed for p in case.settlement.payouts)
    if case.policy.rounding == "largest_remainder":
        expected = sum(round(shares * piece) for piece in pieces)
        if paid != expected:
            return (
                f"paid {paid} fen, but the exact total {fen(exact)} fen rounds "
                f"(half to even, per {case.policy.rounding_scope}) to {expected}"
            )
    elif case.policy.rounding == "half_up":
        # Each share of each piece rounded half up, trimmed to the piece's rounded pool.
        paying = [Fraction(s.share) for s in case.settlement.shares if s.paid]
        expected = sum(
            min(sum(case.rounded(share * piece) for share in paying), case.rounded(piece))
            for piece in pieces
        )
        if paid != expected:
            return (
                f"paid {paid} fen, but its shares rounded half up (per "
                f"{case.policy.rounding_scope}, trimmed to the pool) give {expected}"
            )
    elif paid > exact:
        return f"paid {paid} fen, more than the exact total {fen(exact)} fen (floor)"
    return None


def _deterministic(case: Case) -> str | None:
    again = settle(case.policy, case.tree, case.order, bindings=case.bindings)
    if again != case.settlement:
        return f"gives another settlement when settled again: {difference(case.settlement, again)}"
    return None


def _line_order(case: Case) -> str | None:
    if len(case.order.lines) < 2:
        return None
    # The same validated lines, reordered: nothing new to validate. A coupon's spread breaks
    # ties by line order (§18), so the lines are turned as paid.
    paid = paid_order(case.order)
    turned = paid.model_copy(update={"lines": paid.lines[::-1]})
    again = settle(case.policy, case.tree, turned, bindings=case.bindings)
    if money_of(again) != money_of(case.settlement):
        return f"settles differently with its lines reversed: {difference(case.settlement, again)}"
    return None


def _refund(case: Case) -> str | None:
    if len(case.order.lines) < 2:
        return None
    paid = paid_order(case.order)  # a refund starts from what was paid (§18)
    rest = paid.model_copy(update={"lines": paid.lines[:-1]})
    on_record = resettle(case.settlement, rest)
    fresh = settle(case.policy, case.tree, rest, bindings=case.bindings)
    if money_of(on_record) != money_of(fresh):
        return f"after a refund of its last line re-settles to {difference(fresh, on_record)}"
    return None


_CHECKS: tuple[tuple[str, Callable[[Case], str | None]], ...] = (
    ("inputs", _inputs),
    ("amounts", _amounts),
    ("pool", _pool),
    ("conservation", _conservation),
    ("retained", _retained),
    ("max_generation", _max_generation),
    ("suspended", _suspended),
    ("chain", _chain),
    ("rules", _rules),
    ("peer_max", _peer_max),
    ("budget", _budget),
    ("rounding", _rounding),
    ("deterministic", _deterministic),
    ("line_order", _line_order),
    ("refund", _refund),
)

INVARIANTS: tuple[str, ...] = tuple(name for name, _ in _CHECKS)
"""The invariants ``check_settlement`` checks, in the order it checks them."""


def _under_version(
    versions: PolicyVersions, order: Order, settlement: Settlement
) -> tuple[Policy, Settlement]:
    """The policy in force at the order's ``paid_at``, and the settlement as that policy's
    own (the version's name checked, then set aside)."""
    version = versions.version_for(order)
    named = getattr(settlement, "version", None)
    if named != version.name:
        raise InvariantError(
            f"inputs: order {order.order_id!r} was settled under version {named!r}, but "
            f"{version.name!r} is in force at its paid_at",
            invariant="inputs",
            order_id=order.order_id,
        )
    return version.policy, replace(settlement, version=None, version_from=None)


def _check_types(policy: object, tree: object, order: object, settlement: object) -> None:
    for name, value, expected in [
        ("policy", policy, Policy),
        ("tree", tree, InviteTree),
        ("order", order, Order),
        ("settlement", settlement, Settlement),
    ]:
        if not isinstance(value, expected):
            raise ArgumentTypeError(
                f"{name} is a {type(value).__name__}, expected {expected.__name__}"
            )
