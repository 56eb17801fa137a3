"""Parquet output: row groups with only the dictionary values their rows use, same values."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tuishou.io import output


@pytest.mark.parametrize("rows", [0, 1, 5, 7, 20])
@pytest.mark.parametrize("nulls", [False, True])
def test_parquet_keeps_every_value_and_compacts_each_row_group(tmp_path, monkeypatch, rows, nulls):
    monkeypatch.setattr(output, "ROW_GROUP", 3)
    rng = np.random.default_rng(rows)
    codes = rng.integers(0, 50, rows)
    mask = (codes % 4 == 0) if nulls else None
    members = pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=mask), pa.array([f"m{i}" for i in range(50)])
    )
    table = pa.table({"member_id": members, "amount": pa.array(np.arange(rows, dtype=np.int64))})
    output.write_table(table, tmp_path / "p.parquet")
    back = pq.read_table(tmp_path / "p.parquet", read_dictionary=["member_id"])
    assert back.column("member_id").to_pylist() == members.to_pylist()
    assert back.column("amount").to_pylist() == list(range(rows))
    metadata = pq.ParquetFile(tmp_path / "p.parquet").metadata
    assert metadata.num_row_groups == max(1, -(-rows // 3))
    for chunk in back.column("member_id").chunks:  # one per row group
        used = set(chunk.to_pylist()) - {None}
        assert set(chunk.dictionary.to_pylist()) == used
