"""Delta Lake (the `deltalake` package, delta-rs) served to bench/tools/delta.py.

Runs inside bench/.venvs/delta. Two ways of use share these operations:
- overwrite: every version is `write_deltalake(mode="overwrite")` of the shards;
- best: the native operation per edit — append, delete (a MERGE on the ids), MERGE with
  schema evolution for a new column, MERGE for updated rows, RESTORE for a revert — with the
  change data feed on, which is what gives Delta a row-level diff.

Operations are stateless (each request names the table and its versions), so the runner can
start a fresh worker for every step, as a pipeline step runs in its own process; memory that
a large rewrite leaves behind in one step then does not carry into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import deltalake
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable, WriterProperties, write_deltalake
from serve import serve_table_format, timed

CDF = {"delta.enableChangeDataFeed": "true"}
# delta-rs writes snappy by default; the shards are zstd level 3, so Delta gets the same
# (both ways of use), or its bytes would measure the codec rather than the versioning.
ZSTD = WriterProperties(compression="ZSTD", compression_level=3)
CHANGE_DATA = "_change_data"  # where the change data feed's own files go


def change_data_bytes(uri: str) -> int:
    """Bytes of the change data feed's files so far."""
    folder = Path(uri) / CHANGE_DATA
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def timed_change_data(uri: str, action: Callable[[], object]) -> dict[str, Any]:
    """timed(action), saying how much of its bytes went to the change data feed."""
    before = change_data_bytes(uri)
    reply = timed(action)
    reply["detail"] = f"change data feed files +{change_data_bytes(uri) - before:,} bytes"
    return reply


def shards(files: list[str]) -> pa.RecordBatchReader:
    """The shards as one stream, so no version has to fit in memory."""
    return ds.dataset(files, format="parquet").scanner().to_reader()


def create(uri: str, files: list[str], best: bool) -> dict[str, Any]:
    """The first version; the change data feed is a table property set at creation."""
    return timed(lambda: write_deltalake(uri, shards(files), mode="error",
                                         configuration=CDF if best else None,
                                         writer_properties=ZSTD))


def overwrite(uri: str, files: list[str]) -> dict[str, Any]:
    """Replace the whole table with the shards (a new column replaces the schema)."""
    return timed(lambda: write_deltalake(uri, shards(files), mode="overwrite",
                                         schema_mode="overwrite", writer_properties=ZSTD))


def append(uri: str, files: list[str]) -> dict[str, Any]:
    """Add the new shards' rows."""
    return timed_change_data(uri, lambda: write_deltalake(
        uri, shards(files), mode="append", writer_properties=ZSTD))


def delete(uri: str, ids_file: str) -> dict[str, Any]:
    """Delete rows by id with MERGE ... WHEN MATCHED DELETE (files holding one are rewritten).

    Why not DELETE WHERE id IN (...): with tens of thousands of literals delta-rs 1.6.6 dies
    of a segmentation fault while parsing the predicate; a MERGE on the id set is the
    documented way to delete by a set of keys, and it scales.
    """
    ids = pq.read_table(ids_file)

    def run() -> None:
        (DeltaTable(uri)
         .merge(ids, "t.id = s.id", source_alias="s", target_alias="t", writer_properties=ZSTD)
         .when_matched_delete().execute())

    return timed_change_data(uri, run)


def add_column(uri: str, column_file: str) -> dict[str, Any]:
    """MERGE with schema evolution: the new column by id (every file is rewritten)."""
    source = pq.read_table(column_file)
    name = [n for n in source.column_names if n != "id"][0]

    def run() -> None:
        (DeltaTable(uri)
         .merge(source, "t.id = s.id", source_alias="s", target_alias="t", merge_schema=True,
                writer_properties=ZSTD)
         .when_matched_update({name: f"s.{name}"}).execute())

    return timed_change_data(uri, run)


def update(uri: str, rows_file: str) -> dict[str, Any]:
    """MERGE the updated rows by id (files holding one of them are rewritten)."""
    source = pq.read_table(rows_file)

    def run() -> None:
        (DeltaTable(uri)
         .merge(source, "t.id = s.id", source_alias="s", target_alias="t",
                writer_properties=ZSTD)
         .when_matched_update_all().execute())

    return timed_change_data(uri, run)


def restore(uri: str, table_version: int) -> dict[str, Any]:
    """RESTORE an earlier table version as a new one (its files are reused)."""
    return timed(lambda: DeltaTable(uri).restore(table_version))


def current_version(uri: str) -> dict[str, Any]:
    """The table's latest version number."""
    return {"version": DeltaTable(uri).version()}


def diff(uri: str, first: int, last: int, best: bool) -> dict[str, Any]:
    """Rows changed per type from the change data feed, or else data files added/removed."""
    if first == last:
        return {"seconds": 0.0, "detail": "same table version"}
    found: dict[str, int] = {}

    def by_rows() -> None:
        reader = DeltaTable(uri).load_cdf(starting_version=first + 1, ending_version=last,
                                          columns=["id", "_change_type"])
        table = pa.table(reader)  # ids and change types only: small
        for entry in pc.value_counts(table["_change_type"]).to_pylist():
            found[entry["values"]] = entry["counts"]

    def by_files() -> None:
        before = set(DeltaTable(uri, version=first).file_uris())
        after = set(DeltaTable(uri, version=last).file_uris())
        found["files added"], found["files removed"] = len(after - before), len(before - after)

    reply = timed(by_rows if best else by_files)
    reply["detail"] = ", ".join(f"{k} {v:,}" for k, v in sorted(found.items()))
    return reply


def scan(uri: str, table_version: int) -> pa.RecordBatchReader:
    """Time travel: stream every row of a table version."""
    return DeltaTable(uri, version=table_version).to_pyarrow_dataset().scanner().to_reader()


if __name__ == "__main__":
    serve_table_format(f"deltalake {deltalake.__version__}", {
        "create": create, "overwrite": overwrite, "append": append, "delete": delete,
        "add_column": add_column, "update": update, "restore": restore,
        "current_version": current_version, "diff": diff}, scan)
