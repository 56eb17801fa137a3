"""Scale-out: settle_dask on a LocalCluster with 2 worker processes equals settle_batch."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from tuishou import InvalidOrderError  # noqa: E402
from tuishou.engine.batch import settle_batch  # noqa: E402
from tuishou.engine.dask import settle_dask  # noqa: E402

from helpers import policy, tree_from_text  # noqa: E402

POLICY = policy(
    tiers=["member", "pusher", "mentor", "senior_advisor"],
    group_rates={"xiaomi": "0.05", "ecosystem": "0.2"},
    self_purchase=True,
    max_generation=3,
    rules=[
        {
            "kind": "differential",
            "rates": {"pusher": "0.5", "mentor": "0.65", "senior_advisor": "0.75"},
            "peer_rate": "0.05",
            "peer_max": 1,
        }
    ],
)
TREE = tree_from_text(
    "Z>A>B>C>D A>E>F",
    tiers="Z:senior_advisor A:senior_advisor B:mentor C:pusher D:pusher E:mentor F:pusher",
)


def order_lines(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    orders = np.repeat(np.arange(count), 2)
    return pd.DataFrame(
        {
            "order_id": [f"o{i:04d}" for i in orders],
            "buyer_id": np.array(["D", "F", "C", "B", "guest"])[orders % 5],
            "sku": "s",
            "group": np.array(["xiaomi", "ecosystem"])[rng.integers(0, 2, len(orders))],
            "amount": rng.integers(1, 100_000, len(orders)),
        }
    )


@pytest.fixture(scope="module")
# ":0": any free port; another cluster on this machine must not make the test fail
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def test_a_local_cluster_gives_the_single_machine_answer(client):
    lines = order_lines(400)
    expected = settle_batch(POLICY, TREE, lines)
    result = settle_dask(POLICY, TREE, dd.from_pandas(lines, npartitions=4))
    payouts = result.payouts.compute()
    assert list(payouts.itertuples(index=False, name=None)) == expected.payouts.rows()
    orders = result.orders.compute()
    orders = orders.astype(object).where(orders.notna(), None)  # dask's strings use NA
    assert list(orders.itertuples(index=False, name=None)) == expected.orders.rows()


def test_an_order_split_across_partitions_is_refused(client):
    lines = order_lines(3)  # each order has two lines; three partitions split some of them
    with pytest.raises(InvalidOrderError, match="has lines in more than one partition"):
        settle_dask(POLICY, TREE, dd.from_pandas(lines, chunksize=3, sort=False))


def _lines(order_ids: list[int], amount: list[object]) -> pd.DataFrame:
    size = len(order_ids)
    return pd.DataFrame(
        {
            "order_id": order_ids,
            "buyer_id": ["D"] * size,
            "sku": ["s"] * size,
            "group": ["xiaomi"] * size,
            "amount": pd.Series(amount, dtype=object),
        }
    )


@pytest.mark.parametrize("shape", ["from_pandas", "filtered", "concat", "shuffled"])
def test_partitions_are_read_as_given_through_any_graph(shape):
    """Dask's object-to-text conversion is undone wherever the frame came from: int order ids
    stay ints and a Decimal amount is refused as a Decimal, in settle_batch's words."""
    from decimal import Decimal

    good = dd.from_pandas(_lines([7, 7, 3], [100, 250, 1000]), npartitions=2)
    bad = dd.from_pandas(_lines([9], [Decimal("1.5")]), npartitions=1)
    frames = {
        "from_pandas": good,
        "filtered": good[good.order_id > 0],
        "concat": dd.concat([good, bad]),
        "shuffled": dd.concat([good, bad]).shuffle("order_id"),
    }
    frame = frames[shape]
    orders = settle_dask(POLICY, TREE, frame, check_partitions=False).orders
    if shape in ("from_pandas", "filtered"):
        assert orders.compute().order_id.tolist() == [7, 3]
        return
    with pytest.raises(
        InvalidOrderError,
        match=r"column 'amount' must hold ints, found "
        r"Decimal\('1.5'\) \(Decimal\) in row\(s\) 0",
    ):
        orders.compute()
