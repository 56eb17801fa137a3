"""What the ledger fingerprints must not change under a new feature's defaults.

The ledger recognises a repeated post by the SHA-256 of the policy's and the order's JSON
(docs/ledger.md). A new field that shows up in the JSON at its default (as ``bind_members``
first did in issue 14) makes every order posted before the upgrade look different, so a
backend's retry of such an order is refused as a duplicate. These digests were taken before
issue 14 (commit 8411438): every field added since must be left out of the JSON while it is
at its default.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from importlib.resources import files

import pytest

from tuishou import Order, OrderLine, Policy, load_policy
from tuishou.examples import example_policy, example_rates_policy


def _digest(model: Policy | Order) -> str:
    return hashlib.sha256(model.model_dump_json().encode()).hexdigest()


@pytest.mark.parametrize(
    ("make", "digest"),
    [
        (example_policy, "190b7a3276b4a8acc2f27d50f7cee5143700b18867c350680d4ead7b4c3cccd4"),
        (example_rates_policy, "b638de6cac864e65920f2b661dc8ca4ee4fc18999ea59f236b33fa013e9423dd"),
        (
            lambda: load_policy(files("tuishou") / "data" / "youpin.toml"),
            "72bd688dd06ebd1723c73b73fd64e392fe0c6024fd8232874f83f47fbd4ae709",
        ),
    ],
    ids=["example_policy", "example_rates_policy", "youpin.toml"],
)
def test_a_policy_at_the_new_defaults_dumps_as_before(make: object, digest: str) -> None:
    assert callable(make)
    assert _digest(make()) == digest


def test_an_order_without_a_coupon_dumps_as_before() -> None:
    order = Order(
        order_id="o-1",
        buyer_id="D",
        sharer_id="C",
        paid_at=datetime(2026, 11, 3, 8, tzinfo=timezone(timedelta(hours=8))),
        lines=[
            OrderLine(sku="ear", group="ecosystem", amount=19999, quantity=2),
            OrderLine(sku="phone", group="xiaomi", amount=99900),
        ],
    )
    assert _digest(order) == "af671f557da8bcb94f877eac9a19925cef9f2aa878d3e291689afaa9ec88ac30"


@pytest.mark.parametrize(
    ("field", "value"),
    [("bind_members", True), ("allow_fixed_above_amount", True), ("rounding", "half_up")],
)
def test_a_new_setting_that_is_on_changes_the_json(field: str, value: object) -> None:
    """The other side: a setting turned on is in the JSON (a different policy)."""
    policy = example_policy()
    changed = Policy.model_validate({**policy.model_dump(), field: value})
    assert _digest(changed) != _digest(policy)
    assert field in changed.model_dump_json()
