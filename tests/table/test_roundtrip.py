"""Every column type a corpus uses survives add -> commit -> read_table and checkout, logically.

Tables come back with canonical types (``large_string`` -> ``string``, dictionaries decoded, ...)
by design, so the original is cast to its canonical schema before comparing.
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusgit import Repo
from corpusgit.table.hashing import lanes_to_binary, row_lanes
from corpusgit.table.schema import ROW_HASH_COLUMN, canonical_schema

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PATH = "data/t.parquet"

# -- values ---------------------------------------------------------------------------------------------

_CORPUS_TEXT = st.sampled_from(["", "hello world", "数据集", "训练语料 🙂", "🚀✨🚀", "naïve café", "\x00nul", "ℌ𝔢𝔩𝔩𝔬", "a" * 300])
TEXT = st.one_of(_CORPUS_TEXT, st.text(max_size=40))
INT64 = st.integers(-(2**63), 2**63 - 1)
FLOAT = st.floats(allow_nan=True, allow_infinity=True)


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


def _decimals(precision: int, scale: int) -> st.SearchStrategy[decimal.Decimal]:
    bound = 10**precision - 1
    exact = decimal.Context(prec=100)  # the default 28 digits would round decimal256 values
    return st.integers(-bound, bound).map(lambda i: decimal.Decimal(i).scaleb(-scale, exact))


_TS_RANGE = {"ms": 10**13, "us": 10**16, "ns": 2**62}  # well inside every unit's range


def _from_ints(target: pa.DataType) -> Callable[[list[Any]], pa.Array]:
    return lambda values: pa.array(values, pa.int64()).cast(target)


def _float16(values: list[Any]) -> pa.Array:
    mask = np.array([v is None for v in values], dtype=bool)
    data = np.array([0.0 if v is None else v for v in values], dtype=np.float16)
    return pa.array(data, mask=mask if mask.any() else None)


def _dictionary(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.string()).dictionary_encode()


# name -> (value strategy, builder from a Python list with None for null)
Kind = tuple[st.SearchStrategy[Any], Callable[[list[Any]], pa.Array]]


def _typed(t: pa.DataType) -> Callable[[list[Any]], pa.Array]:
    return lambda values: pa.array(values, t)


SCALARS: dict[str, Kind] = {
    "int8": (_ints(-128, 127), _typed(pa.int8())),
    "int32": (_ints(-(2**31), 2**31 - 1), _typed(pa.int32())),
    "int64": (INT64, _typed(pa.int64())),
    "uint64": (_ints(0, 2**64 - 1), _typed(pa.uint64())),
    "float32": (st.floats(width=32, allow_nan=True), _typed(pa.float32())),
    "float64": (FLOAT, _typed(pa.float64())),
    "float16": (st.floats(width=16, allow_nan=False), _float16),
    "bool": (st.booleans(), _typed(pa.bool_())),
    "string": (TEXT, _typed(pa.string())),
    "large_string": (TEXT, _typed(pa.large_string())),
    "dict_string": (st.sampled_from(["en", "zh", "ja", "数据", "🙂"]), _dictionary),
    "binary": (st.binary(max_size=40), _typed(pa.binary())),
    "large_binary": (st.binary(max_size=40), _typed(pa.large_binary())),
    "fixed_binary": (st.binary(min_size=4, max_size=4), _typed(pa.binary(4))),
}

TEMPORAL: dict[str, Kind] = {
    "ts_ms_tokyo": (_ints(-_TS_RANGE["ms"], _TS_RANGE["ms"]), _from_ints(pa.timestamp("ms", "Asia/Tokyo"))),
    "ts_us_utc": (_ints(-_TS_RANGE["us"], _TS_RANGE["us"]), _from_ints(pa.timestamp("us", "UTC"))),
    "ts_ns_newyork": (_ints(-_TS_RANGE["ns"], _TS_RANGE["ns"]), _from_ints(pa.timestamp("ns", "America/New_York"))),
    "ts_us_naive": (_ints(-_TS_RANGE["us"], _TS_RANGE["us"]), _from_ints(pa.timestamp("us"))),
    "date32": (_ints(-100_000, 100_000), lambda v: pa.array(v, pa.int32()).cast(pa.date32())),
    "time64": (_ints(0, 86_400 * 10**6 - 1), _from_ints(pa.time64("us"))),
    "duration": (INT64, _from_ints(pa.duration("ms"))),
    "decimal128": (_decimals(20, 4), _typed(pa.decimal128(20, 4))),
    "decimal256": (_decimals(45, 10), _typed(pa.decimal256(45, 10))),
    "decimal32": (_decimals(7, 2), _typed(pa.decimal32(7, 2))),
    "decimal64": (_decimals(15, 3), _typed(pa.decimal64(15, 3))),
}

_SMALL = st.one_of(st.none(), st.integers(-1000, 1000))
_META = pa.struct([("src", pa.string()), ("n", pa.int32()), ("probs", pa.list_(pa.float64()))])
NESTED: dict[str, Kind] = {
    "list_int": (st.lists(_SMALL, max_size=5), _typed(pa.list_(pa.int64()))),
    "list_text": (st.lists(st.one_of(st.none(), TEXT), max_size=5), _typed(pa.list_(pa.string()))),
    "large_list": (st.lists(st.one_of(st.none(), TEXT), max_size=5), _typed(pa.large_list(pa.large_string()))),
    "fixed_list": (st.lists(st.floats(width=32, allow_nan=False), min_size=3, max_size=3), _typed(pa.list_(pa.float32(), 3))),
    "struct": (
        st.fixed_dictionaries(
            {
                "src": st.one_of(st.none(), TEXT),
                "n": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
                "probs": st.one_of(st.none(), st.lists(st.floats(allow_nan=False), max_size=3)),
            }
        ),
        _typed(_META),
    ),
    "map": (
        st.dictionaries(TEXT, st.one_of(st.none(), INT64), max_size=4).map(lambda d: list(d.items())),
        _typed(pa.map_(pa.string(), pa.int64())),
    ),
    "list_struct": (
        st.lists(st.fixed_dictionaries({"k": TEXT, "v": st.one_of(st.none(), st.floats(allow_nan=False))}), max_size=3),
        _typed(pa.list_(pa.struct([("k", pa.string()), ("v", pa.float64())]))),
    ),
}

ALL_KINDS = {**SCALARS, **TEMPORAL, **NESTED}


@st.composite
def tables(draw: st.DrawFn, kinds: dict[str, Kind], max_rows: int = 12) -> pa.Table:
    """A table of 1-5 columns drawn from ``kinds``, 0..max_rows rows, nulls anywhere."""
    names = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=5, unique=True))
    rows = draw(st.integers(0, max_rows))
    columns = {}
    for name in names:
        values_st, build = kinds[name]
        nullable = draw(st.booleans())
        cell = st.one_of(st.none(), values_st) if nullable else values_st
        columns[name] = build(draw(st.lists(cell, min_size=rows, max_size=rows)))
    return pa.table(columns)


# -- comparing ------------------------------------------------------------------------------------------


def canonical(table: pa.Table) -> pa.Table:
    return table.cast(canonical_schema(table.schema))


def _without_nans(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, list[bool] | None]:
    if pa.types.is_floating(col.type) and not pa.types.is_float16(col.type):
        nan = pc.is_nan(col)
        return pc.if_else(nan, pa.scalar(0.0, col.type), col), nan.to_pylist()
    if pa.types.is_float16(col.type):
        as32 = pa.chunked_array([pa.array(c.to_numpy(zero_copy_only=False).astype(np.float32), mask=c.is_null().to_numpy(zero_copy_only=False)) for c in col.chunks], pa.float32())
        return _without_nans(as32)
    return col, None


def assert_same_table(got: pa.Table, expected: pa.Table) -> None:
    """Same names, canonical types and cells (NaN equal to NaN, exact bits otherwise)."""
    assert got.column_names == expected.column_names
    assert [f.type for f in got.schema] == [f.type for f in expected.schema]
    assert got.num_rows == expected.num_rows
    for name in expected.column_names:
        a, nan_a = _without_nans(got.column(name))
        b, nan_b = _without_nans(expected.column(name))
        assert nan_a == nan_b, name
        assert a.equals(b), (name, a.to_pylist()[:5] if not pa.types.is_timestamp(a.type) else "", b.to_pylist()[:5] if not pa.types.is_timestamp(b.type) else "")


# -- the round trip -------------------------------------------------------------------------------------


def write_parquet_file(root: Path, rel: str, table: pa.Table, **options: Any) -> None:
    """Like the ``write_parquet`` fixture, for the fresh repositories hypothesis examples need."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path.with_name("tmp.parquet.part"), **options)
    path.with_name("tmp.parquet.part").replace(path)  # new inode: never a stat-cache hit


def fresh_repo(base: Path) -> Repo:
    return Repo.init(base / f"r{next(_COUNTER)}")


_COUNTER = itertools.count()


def round_trip(repo: Repo, original: pa.Table, second: pa.Table | None = None) -> None:
    """add+commit ``original``; read it back; commit ``second`` over it (matching against the first);
    read that back; check the first out again and read the file with plain pyarrow."""
    expected = canonical(original)
    write_parquet_file(repo.root, PATH, original)
    repo.add([repo.root / "data"])
    first = repo.commit("first")
    assert_same_table(repo.read_table("HEAD", PATH).read_all(), expected)

    with_hash = repo.read_table("HEAD", PATH, with_row_hash=True).read_all()
    hi, lo = row_lanes(expected)
    assert with_hash.column(ROW_HASH_COLUMN).to_pylist() == lanes_to_binary(hi, lo).to_pylist()
    if expected.num_columns > 1:
        some = expected.column_names[::-2]
        assert_same_table(repo.read_table("HEAD", PATH, columns=some).read_all(), expected.select(some))

    if second is None:
        n = original.num_rows
        second = original.take(pa.array(list(range(n - 1, -1, -1)) + [0] * min(n, 2), pa.int64()))  # reversed + duplicates
    write_parquet_file(repo.root, PATH, second)
    repo.add([repo.root / "data"])
    repo.commit("second", allow_empty=True)  # the second version may equal the first
    assert_same_table(repo.read_table("HEAD", PATH).read_all(), canonical(second))

    repo.checkout(first)
    assert_same_table(canonical(pq.read_table(repo.root / PATH)), expected)  # untouched if second == first
    assert_same_table(repo.read_table(first, PATH).read_all(), expected)


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CGIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("CGIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


@SETTINGS
@given(table=tables(SCALARS))
def test_scalar_columns_round_trip(base: Path, table: pa.Table) -> None:
    round_trip(fresh_repo(base), table)


@SETTINGS
@given(table=tables(TEMPORAL))
def test_temporal_and_decimal_columns_round_trip(base: Path, table: pa.Table) -> None:
    round_trip(fresh_repo(base), table)


@SETTINGS
@given(table=tables(NESTED))
def test_nested_columns_round_trip(base: Path, table: pa.Table) -> None:
    round_trip(fresh_repo(base), table)


@SETTINGS
@given(table=tables(ALL_KINDS, max_rows=40))
def test_mixed_columns_round_trip(base: Path, table: pa.Table) -> None:
    round_trip(fresh_repo(base), table)


def _column(name: str, values: list[Any]) -> pa.Array:
    return ALL_KINDS[name][1](values)


def test_zero_row_tables_round_trip(base: Path) -> None:
    empty = pa.table({name: _column(name, []) for name in sorted(ALL_KINDS)})
    round_trip(fresh_repo(base), empty, second=empty)


def test_all_null_columns_round_trip(base: Path) -> None:
    nulls = pa.table({**{name: _column(name, [None] * 3) for name in sorted(ALL_KINDS)}, "nothing": pa.nulls(3)})
    round_trip(fresh_repo(base), nulls)


def test_zero_rows_then_rows_then_zero_rows(base: Path) -> None:
    repo = fresh_repo(base)
    table = pa.table({"id": pa.array([1, 2, 3]), "text": pa.array(["数据", "🙂", None])})
    round_trip(repo, table.slice(0, 0), second=table)


def test_unicode_column_names_round_trip(base: Path) -> None:
    table = pa.table({"文本": ["数据集", "🙂"], "émoji 🙂": [1, None], "a.b/c": [True, False]})
    round_trip(fresh_repo(base), table)


def test_single_row_over_50_mb_round_trips(base: Path) -> None:
    """A whole book in one cell: it must neither be split nor refused."""
    rng = np.random.default_rng(0)
    words = np.array(["数据集", "训练", "corpus", "🙂", "token", "the", "and", "语料"])
    block = " ".join(words[rng.integers(0, len(words), size=200_000)].tolist()) + "\n"
    huge = block * 50
    assert len(huge.encode()) > 50_000_000
    table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "text": pa.array(["short", huge, "tail 🙂"], pa.large_string())})
    repo = fresh_repo(base)
    write_parquet_file(repo.root, PATH, table)
    repo.add([repo.root / "data"])
    first = repo.commit("book")
    got = repo.read_table("HEAD", PATH).read_all()
    assert got.column("text").type == pa.string()
    assert got.column("text")[1].as_py() == huge
    assert got.column("id").to_pylist() == [1, 2, 3]
    write_parquet_file(repo.root, PATH, table.slice(1, 2))  # drop the first row
    result = repo.add([repo.root / "data"])
    assert result.new_bytes < 100_000  # the huge row is matched, not stored again
    repo.commit("drop first")
    repo.checkout(first)
    back = pq.read_table(repo.root / PATH)
    assert back.column("text").to_pylist() == ["short", huge, "tail 🙂"]


# -- equal content, equal table id ------------------------------------------------------------------------


def table_id(repo: Repo, rel: str) -> str:
    return repo.read_index().entries[rel].id


def test_physical_variants_get_the_same_table_id(repo: Repo, make_table: Callable[..., pa.Table]) -> None:
    table = make_table(12_000, seed=3)
    lang = table.schema.get_field_index("lang")
    variants = {
        "plain/t.parquet": (table, {}),
        "large/t.parquet": (table.cast(pa.schema([f.with_type(pa.large_string()) if f.type == pa.string() else f for f in table.schema])), {}),
        "groups/t.parquet": (table, {"row_group_size": 1_777}),
        "dict/t.parquet": (table.set_column(lang, "lang", table.column("lang").dictionary_encode()), {"row_group_size": 5_000}),
        "written-dict/t.parquet": (table, {"use_dictionary": True, "data_page_size": 4096, "compression": "gzip"}),
        "chunked/t.parquet": (pa.Table.from_batches(table.to_batches(max_chunksize=999)), {"row_group_size": 3_001}),
    }
    for rel, (t, options) in variants.items():
        write_parquet_file(repo.root, rel, t, **options)
    assert pq.ParquetFile(repo.root / "groups/t.parquet").metadata.num_row_groups > 5
    repo.add([repo.root])
    ids = {rel: table_id(repo, rel) for rel in variants}
    assert len(set(ids.values())) == 1, ids
    repo.commit("variants")
    tree = repo.store.get_meta(repo.read_commit("HEAD").tree)
    assert {path: oid for path, _kind, oid, _mode in tree["entries"]} == ids
    for rel in variants:
        assert_same_table(repo.read_table("HEAD", rel).read_all(), canonical(table))


def test_different_content_gets_a_different_table_id(repo: Repo, make_table: Callable[..., pa.Table]) -> None:
    table = make_table(2_000)
    texts = table.column("text").to_pylist()
    texts[1_234] += "!"
    write_parquet_file(repo.root, "a/t.parquet", table)
    write_parquet_file(repo.root, "b/t.parquet", table.set_column(1, "text", pa.array(texts)))
    write_parquet_file(repo.root, "c/t.parquet", table.slice(0, 1_999))
    repo.add([repo.root])
    assert len({table_id(repo, f"{d}/t.parquet") for d in "abc"}) == 3
