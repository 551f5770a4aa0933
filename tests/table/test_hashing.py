"""Row identity and chunk content ids: invariant under physical layout, sensitive to content."""

from __future__ import annotations

import decimal
import struct

import numpy as np
import pyarrow as pa
import pytest

from corpusgit.store.canonical import canonical_json
from corpusgit.table.hashing import binary_to_lanes, content_id, lanes_to_binary, row_lanes, row_sizes
from corpusgit.table.schema import canonical_schema, schema_to_json


def canonical(table: pa.Table) -> pa.Table:
    return table.cast(canonical_schema(table.schema))


def cid(table: pa.Table) -> str:
    """Content id of a table exactly as ingest computes it for a chunk."""
    t = canonical(table)
    return content_id(t, canonical_json(schema_to_json(t.schema)))


def lanes(table: pa.Table, columns: list[str] | None = None) -> list[tuple[int, int]]:
    hi, lo = row_lanes(canonical(table), columns)
    return list(zip(hi.tolist(), lo.tolist()))


def mixed_table() -> pa.Table:
    """Every kind of column a corpus uses, with nulls and NaNs, 8 rows."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3, None, 5, 6, 7, 8], pa.int64()),
            "text": pa.array(["hello", "数据集 🙂", "", None, "naïve", "🚀" * 40, "x", "日本語"], pa.string()),
            "blob": pa.array([b"\x00", None, b"", b"\xff\xfe", b"ab", b"c", b"d" * 100, b"e"], pa.binary()),
            "ok": pa.array([True, False, None, True, True, False, None, True]),
            "score": pa.array([0.5, float("nan"), None, -0.0, 1e300, float("inf"), 2.5, 0.0], pa.float64()),
            "f32": pa.array([1.5, None, float("nan"), 3.0, 4.0, 5.0, 6.0, 7.0], pa.float32()),
            "ts": pa.array([0, 1_700_000_000_000_000, None, 3, 4, 5, 6, 7], pa.timestamp("us", "Europe/Paris")),
            "day": pa.array([0, 19000, None, -1, 4, 5, 6, 7], pa.date32()),
            "price": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")] + [decimal.Decimal(i) for i in range(5)], pa.decimal128(12, 2)),
            "big": pa.array([decimal.Decimal(10) ** 40, None] + [decimal.Decimal(i) for i in range(6)], pa.decimal256(50, 0)),
            "digest": pa.array([b"0123456789abcdef", None] + [bytes([i]) * 16 for i in range(6)], pa.binary(16)),
            "tags": pa.array([["a", "b"], [], None, ["数据"], ["x", None], ["y"], ["z", "z"], []], pa.list_(pa.string())),
            "meta": pa.array(
                [{"src": "web", "n": 1}, None, {"src": None, "n": 2}, {"src": "book", "n": None}, {"src": "a", "n": 5}, {"src": "b", "n": 6}, {"src": "c", "n": 7}, {"src": "d", "n": 8}],
                pa.struct([("src", pa.string()), ("n", pa.int32())]),
            ),
            "attrs": pa.array([[("k", 1)], None, [], [("a", 2), ("b", 3)], [("k", 1)], [("z", None)], [("q", 9)], []], pa.map_(pa.string(), pa.int64())),
            "vec": pa.array([[1.0, 2.0], [3.0, 4.0], None, [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0], [13.0, 14.0]], pa.list_(pa.float32(), 2)),
        }
    )


# -- physical layout does not matter -----------------------------------------------------------------


def physical_variants(t: pa.Table) -> dict[str, pa.Table]:
    """The same logical table written the ways different producers write it."""
    large = pa.table(
        {
            "id": t["id"],
            "text": t["text"].cast(pa.large_string()),
            "blob": t["blob"].cast(pa.large_binary()),
            "tags": t["tags"].cast(pa.large_list(pa.large_string())),
            "lang": t["lang"].cast(pa.large_string()),
        }
    )
    chunked = pa.Table.from_batches(t.to_batches(max_chunksize=3))
    dictionary = t.set_column(t.schema.get_field_index("lang"), "lang", t["lang"].dictionary_encode())
    return {"large": large, "chunked": chunked, "dictionary": dictionary}


def layout_table() -> pa.Table:
    base = mixed_table()
    return pa.table(
        {
            "id": base["id"],
            "text": base["text"],
            "blob": base["blob"],
            "tags": base["tags"],
            "lang": pa.array(["en", "zh", None, "en", "ja", "zh", "en", "ko"]),
        }
    )


@pytest.mark.parametrize("variant", ["large", "chunked", "dictionary"])
def test_physical_variants_share_row_hashes_and_content_id(variant: str) -> None:
    original = layout_table()
    other = physical_variants(original)[variant]
    assert canonical(other).schema == canonical(original).schema
    assert lanes(other) == lanes(original)
    assert cid(other) == cid(original)


def test_dictionary_with_unused_and_reordered_values_hashes_like_plain_strings() -> None:
    plain = pa.table({"lang": pa.array(["en", "zh", None, "en"])})
    dictionary = pa.DictionaryArray.from_arrays(pa.array([2, 0, None, 2], pa.int8()), pa.array(["zh", "unused", "en"]))
    encoded = pa.table({"lang": dictionary})
    assert lanes(encoded) == lanes(plain)
    assert cid(encoded) == cid(plain)


def test_list_and_map_child_names_do_not_matter() -> None:
    """pyarrow writes list children as "item", Parquet readers return "element", Spark others:
    the values are the same, so the rows must be too."""
    values = [[1, 2], None, []]
    names = [pa.list_(pa.field(n, pa.int64())) for n in ("item", "element", "array")]
    tables = [pa.table({"v": pa.array(values, t)}) for t in names]
    tables.append(pa.table({"v": pa.array(values, pa.large_list(pa.field("bag", pa.int64())))}))
    assert len({tuple(lanes(t)) for t in tables}) == 1
    assert len({cid(t) for t in tables}) == 1
    maps = [pa.map_(pa.field(k, pa.string(), nullable=False), pa.field(v, pa.int64())) for k, v in (("key", "value"), ("k", "v"))]
    map_tables = [pa.table({"m": pa.array([[("a", 1)], None], t)}) for t in maps]
    assert lanes(map_tables[0]) == lanes(map_tables[1])
    assert cid(map_tables[0]) == cid(map_tables[1])


def test_chunked_columns_hash_like_contiguous_arrays() -> None:
    t = mixed_table()
    pieces = pa.Table.from_batches([b for b in t.to_batches(max_chunksize=1)])
    assert pieces["text"].num_chunks == t.num_rows
    assert lanes(pieces) == lanes(t)
    assert cid(pieces) == cid(t)


def test_slices_hash_like_copies() -> None:
    """Arrays with a non-zero offset (every Arrow slice) must hash their own rows, not the parent's."""
    t = canonical(mixed_table())
    full_hi, full_lo = row_lanes(t)
    for start, length in [(0, 3), (3, 5), (5, 2), (7, 1), (2, 0)]:
        sliced = t.slice(start, length)
        copy = pa.Table.from_pylist(sliced.to_pylist(), schema=t.schema)
        hi, lo = row_lanes(sliced)
        assert hi.tolist() == full_hi[start:start + length].tolist()
        assert lo.tolist() == full_lo[start:start + length].tolist()
        assert (hi.tolist(), lo.tolist()) == tuple(x.tolist() for x in row_lanes(copy))
        assert content_id(sliced, b"s") == content_id(copy, b"s"), (start, length)
        assert row_sizes(sliced).tolist() == row_sizes(t)[start:start + length].tolist()


def test_content_id_ignores_bytes_hidden_under_nulls() -> None:
    """Two producers may leave different garbage beneath a null; the content is the same."""
    values = pa.array([1, 2, 3], pa.int64())
    other = pa.Array.from_buffers(pa.int64(), 3, [values.buffers()[0], pa.py_buffer(np.array([1, 999, 3], np.int64).tobytes())])
    a = pa.array([1, None, 3], pa.int64())
    b = pa.Array.from_buffers(pa.int64(), 3, [a.buffers()[0], other.buffers()[1]])
    assert a.equals(b)
    assert content_id(pa.table({"x": a}), b"s") == content_id(pa.table({"x": b}), b"s")
    assert row_lanes(pa.table({"x": a}))[1].tolist() == row_lanes(pa.table({"x": b}))[1].tolist()


# -- column groups ------------------------------------------------------------------------------------


def test_row_hash_is_sum_of_column_group_hashes() -> None:
    """Adding a column must not rename the rows of the others: group hashes add up lane-wise."""
    t = canonical(mixed_table())
    names = t.column_names
    whole_hi, whole_lo = row_lanes(t)
    for split in ([names[:3], names[3:]], [names[::2], names[1::2]], [[n] for n in names]):
        hi = np.zeros(t.num_rows, np.uint64)
        lo = np.zeros(t.num_rows, np.uint64)
        with np.errstate(over="ignore"):
            for group in split:
                g_hi, g_lo = row_lanes(t.select(group))
                hi += g_hi
                lo += g_lo
        assert hi.tolist() == whole_hi.tolist()
        assert lo.tolist() == whole_lo.tolist()


def test_column_names_and_types_are_part_of_the_hash() -> None:
    a = pa.table({"x": pa.array([1, 2], pa.int64())})
    renamed = pa.table({"y": pa.array([1, 2], pa.int64())})
    retyped = pa.table({"x": pa.array([1, 2], pa.int32())})
    assert len({tuple(lanes(t)) for t in (a, renamed, retyped)}) == 3
    assert len({cid(t) for t in (a, retyped)}) == 2


def test_equal_values_in_different_columns_do_not_cancel() -> None:
    t = pa.table({"a": ["x", "y"], "b": ["y", "x"]})
    first, second = lanes(t)
    assert first != second


# -- value canonicalisation -----------------------------------------------------------------------------


def test_every_nan_is_one_value() -> None:
    patterns = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FFFFFFFFFFFFFFF]
    raw = np.array(patterns, dtype=np.uint64).view(np.float64)
    assert np.isnan(raw).all()
    nans = pa.table({"score": pa.array(raw)})
    canonical_nan = pa.table({"score": pa.array([float("nan")] * 4)})
    assert len(set(lanes(nans))) == 1
    assert lanes(nans) == lanes(canonical_nan)
    assert cid(nans) == cid(canonical_nan)
    f32 = np.frombuffer(struct.pack("<2I", 0x7FC00000, 0xFFC00001), dtype=np.float32)
    assert len(set(lanes(pa.table({"f": pa.array(f32)})))) == 1


def test_zero_signs_and_nan_stay_distinct_from_values() -> None:
    t = pa.table({"score": pa.array([0.0, -0.0, float("nan"), float("inf"), None])})
    assert len(set(lanes(t))) == 5


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        (pa.int64(), 0),
        (pa.float64(), 0.0),
        (pa.bool_(), False),
        (pa.string(), ""),
        (pa.binary(), b""),
        (pa.list_(pa.int64()), []),
        (pa.list_(pa.int64()), [None]),
        (pa.struct([("a", pa.int64())]), {"a": None}),
        (pa.map_(pa.string(), pa.int64()), []),
        (pa.date32(), 0),
        (pa.decimal128(5, 2), decimal.Decimal("0.00")),
        (pa.binary(4), b"\x00\x00\x00\x00"),
    ],
    ids=lambda x: str(x),
)
def test_null_is_distinct_from_every_value(type_: pa.DataType, value: object) -> None:
    t = pa.table({"c": pa.array([None, value], type_)})
    null_row, value_row = lanes(t)
    assert null_row != value_row
    assert cid(t.slice(0, 1)) != cid(t.slice(1, 1))


def test_list_order_and_boundaries_matter() -> None:
    t = pa.table({"tags": pa.array([["a", "b"], ["b", "a"], ["a"], ["ab"], ["a", "b", "a"]])})
    assert len(set(lanes(t))) == 5
    split = pa.table({"tags": pa.array([["a"], ["b"]])})
    joined = pa.table({"tags": pa.array([["a", "b"], []])})
    assert cid(split) != cid(joined)


def test_string_boundaries_matter_for_content_id() -> None:
    assert cid(pa.table({"s": ["ab", "c"]})) != cid(pa.table({"s": ["a", "bc"]}))


def test_row_hash_column_packing_round_trips() -> None:
    hi, lo = row_lanes(canonical(mixed_table()))
    packed = lanes_to_binary(hi, lo)
    assert packed.type == pa.binary(16)
    back_hi, back_lo = binary_to_lanes(packed)
    assert (back_hi.tolist(), back_lo.tolist()) == (hi.tolist(), lo.tolist())
    s_hi, s_lo = binary_to_lanes(packed.slice(2, 3))
    assert (s_hi.tolist(), s_lo.tolist()) == (hi[2:5].tolist(), lo[2:5].tolist())


# -- golden values: any change here changes every id in every repository -------------------------------

GOLDEN_TABLE_ROWS = [
    {"id": 1, "text": "hello world", "lang": "en", "score": 0.5, "tags": ["a", "b"]},
    {"id": 2, "text": "数据集 🙂", "lang": "zh", "score": float("nan"), "tags": []},
    {"id": 3, "text": "", "lang": None, "score": None, "tags": None},
]
GOLDEN_SCHEMA = pa.schema(
    [("id", pa.int64()), ("text", pa.large_string()), ("lang", pa.string()), ("score", pa.float64()), ("tags", pa.list_(pa.string()))]
)
GOLDEN_ROW_HASHES = [
    "3a2a768cc9a341f14d985483e31562b8",
    "cef788a45f638764d4270dbac5a3cb5b",
    "075c18ec883ce851aa43f0d0cdc1273e",
]
GOLDEN_CONTENT_ID = "695d7cc4e62bbed3e2facca27840071e6b6befc1bf1c1cff2a63bd66dc4948a8"


def test_golden_row_hashes_and_content_id() -> None:
    """Pinned values (as in Dolt's content_address_test): a drift in hashing must fail loudly,
    because it would silently split every existing row and chunk from its new twin."""
    t = canonical(pa.Table.from_pylist(GOLDEN_TABLE_ROWS, schema=GOLDEN_SCHEMA))
    hi, lo = row_lanes(t)
    assert lanes_to_binary(hi, lo).to_pylist() == [bytes.fromhex(h) for h in GOLDEN_ROW_HASHES]
    assert content_id(t, canonical_json(schema_to_json(t.schema))) == GOLDEN_CONTENT_ID
