"""Fixed schedules and quantity brackets for drawn policies (docs/domain.md §17).

``with_fixed`` adds, to a policy drawn by ``policies(fixed=True, brackets=True)``, fixed
schedules for some SKUs without a rate of their own (each naming some of the policy's rules,
amounts in the shape of each rule's rates, sometimes in quantity brackets) and turns some SKU
rates into quantity brackets. Bracket bounds are small (2 or 3 units) so that the quantities
orders draw (1 to 3) fall on both sides of them. Fixed amounts are small and
``allow_fixed_above_amount`` is drawn, so that some lines are refused for paying more than
their amount.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tuishou.testing._arguments import sample

__all__ = ["with_fixed"]

_AMOUNTS = st.sampled_from((0, 1, 5, 100, 500)) | st.integers(0, 2_000)
_STARTS = st.sampled_from(((1,), (1, 2), (1, 3), (1, 2, 3)))


def with_fixed(
    draw: st.DrawFn, policy: dict[str, Any], skus: tuple[str, ...], *, fixed: bool, brackets: bool
) -> dict[str, Any]:
    """``policy`` (a dict) with fixed schedules (``fixed``) and rate brackets (``brackets``)."""
    changed = dict(policy)
    rates = dict(policy["sku_rates"])
    if brackets:
        for sku in draw(st.lists(sample(tuple(rates) or ("",)), unique=True)):
            if sku in rates:
                starts = draw(_STARTS)
                rates[sku] = [{"from": 1, "rate": rates[sku]}] + [
                    {"from": start, "rate": draw(sample(tuple(_rates(policy))))}
                    for start in starts[1:]
                ]
    changed["sku_rates"] = rates
    if fixed and policy["rules"]:
        free = tuple(sku for sku in skus if sku not in rates)
        chosen = draw(st.lists(sample(free), unique=True, max_size=2)) if free else []
        changed["fixed"] = {sku: _entry(draw, policy) for sku in chosen}
        changed["allow_fixed_above_amount"] = draw(st.booleans())
    return changed


def _rates(policy: dict[str, Any]) -> set[str]:
    """Rates a bracket may take: the policy's group rates (each within 0..1)."""
    return set(policy["group_rates"].values()) or {"0"}


def _entry(draw: st.DrawFn, policy: dict[str, Any]) -> Any:
    starts = draw(_STARTS)
    if len(starts) == 1 and draw(st.booleans()):
        return _schedule(draw, policy)
    return [{"from": start, "schedule": _schedule(draw, policy)} for start in starts]


def _schedule(draw: st.DrawFn, policy: dict[str, Any]) -> dict[str, Any]:
    rules = policy["rules"]
    named = draw(st.lists(sample(tuple(range(len(rules)))), unique=True, min_size=1))
    return {rules[index]["name"]: _amounts(draw, rules[index], policy) for index in named}


def _amounts(draw: st.DrawFn, rule: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    tiers = draw(st.lists(sample(tuple(policy["tiers"])), unique=True))
    if rule["kind"] == "layers":
        depth = st.integers(0, policy["max_generation"])
        return {"amounts": {t: [draw(_AMOUNTS) for _ in range(draw(depth))] for t in tiers}}
    amounts: dict[str, Any] = {"amounts": {t: draw(_AMOUNTS) for t in tiers}}
    if rule["kind"] == "differential" and draw(st.booleans()):
        amounts["peer_amount"] = draw(_AMOUNTS)
    return amounts
