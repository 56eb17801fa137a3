"""Hypothesis strategies and invariant checks for your own tests: ``tuishou[testing]``.

- **strategies** that shrink to tiny cases: :func:`invite_trees` (built from parent indices),
  :func:`orders` and :func:`order_batches` over a tree, :func:`policies` (every rule kind and
  option, always within budget), :func:`scenarios` (all three together) and :func:`rosters`
  for a migration (等级平移); :func:`bindings` (customer bindings, 锁粉) with
  :func:`binding_rules`, and :func:`paid_times` to pay orders on the same grid of hours;
- :func:`check_settlement`, which checks every invariant of docs/domain.md §14 on a settlement and
  raises an ``InvariantError`` (an ``AssertionError``) naming the one that fails. It needs no
  hypothesis: ``from tuishou.invariants import check_settlement`` works without the extra.

See docs/testing.md, "Testing your commission policy", for a guide with an example to copy.

>>> from hypothesis import given
>>> from tuishou import settle
>>> @given(scenarios())
... def test_settlements_keep_their_invariants(scenario):
...     check_settlement(*scenario, settle(*scenario))
>>> test_settlements_keep_their_invariants()
"""

try:
    import hypothesis  # noqa: F401  (only to say what is missing)
except ModuleNotFoundError as exc:  # pragma: no cover  (the dev environment has hypothesis)
    if exc.name != "hypothesis":
        raise
    raise ImportError(
        "tuishou.testing needs hypothesis, which is not installed: pip install 'tuishou[testing]'"
    ) from exc

from tuishou.errors import InvariantError
from tuishou.invariants import INVARIANTS, check_settlement
from tuishou.testing._arguments import DEFAULT_GROUPS, DEFAULT_SKUS, DEFAULT_TIERS
from tuishou.testing._bindings import binding_rules, bindings, paid_times
from tuishou.testing._orders import order_batches, orders
from tuishou.testing._policies import policies
from tuishou.testing._rosters import Roster, rosters
from tuishou.testing._scenarios import Scenario, scenarios
from tuishou.testing._trees import invite_trees

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_SKUS",
    "DEFAULT_TIERS",
    "INVARIANTS",
    "InvariantError",
    "Roster",
    "Scenario",
    "binding_rules",
    "bindings",
    "check_settlement",
    "invite_trees",
    "order_batches",
    "orders",
    "paid_times",
    "policies",
    "rosters",
    "scenarios",
]
