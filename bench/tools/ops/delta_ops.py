"""Delta Lake (the `deltalake` package, delta-rs) served to bench/tools/delta.py.

Runs inside bench/.venvs/delta. Two ways of use share these operations:
- overwrite: every version is `write_deltalake(mode="overwrite")` of the shards;
- best: the native operation per edit — append, delete (a MERGE on the ids), MERGE with
  schema evolution for a new column, MERGE for updated rows, RESTORE for a revert — with the
  change data feed on, which is what gives Delta a row-level diff.
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
state: dict[str, Any] = {"versions": {}}


def change_data_bytes() -> int:
    """Bytes of the change data feed's files so far."""
    folder = Path(state["uri"]) / CHANGE_DATA
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def timed_change_data(action: Callable[[], object]) -> dict[str, Any]:
    """timed(action), saying how much of its bytes went to the change data feed."""
    before = change_data_bytes()
    reply = timed(action)
    reply["detail"] = f"change data feed files +{change_data_bytes() - before:,} bytes"
    return reply


def shards(files: list[str]) -> pa.RecordBatchReader:
    """The shards as one stream, so no version has to fit in memory."""
    return ds.dataset(files, format="parquet").scanner().to_reader()


def create(uri: str, files: list[str], best: bool) -> dict[str, Any]:
    """The first version; the change data feed is a table property set at creation."""
    state["uri"] = uri
    return timed(lambda: write_deltalake(uri, shards(files), mode="error",
                                         configuration=CDF if best else None,
                                         writer_properties=ZSTD))


def overwrite(files: list[str]) -> dict[str, Any]:
    """Replace the whole table with the shards (a new column replaces the schema)."""
    return timed(lambda: write_deltalake(state["uri"], shards(files), mode="overwrite",
                                         schema_mode="overwrite", writer_properties=ZSTD))


def append(files: list[str]) -> dict[str, Any]:
    """Add the new shards' rows."""
    return timed_change_data(lambda: write_deltalake(
        state["uri"], shards(files), mode="append", writer_properties=ZSTD))


def delete(ids_file: str) -> dict[str, Any]:
    """Delete rows by id with MERGE ... WHEN MATCHED DELETE (files holding one are rewritten).

    Why not DELETE WHERE id IN (...): with tens of thousands of literals delta-rs 1.6.6 dies
    of a segmentation fault while parsing the predicate; a MERGE on the id set is the
    documented way to delete by a set of keys, and it scales.
    """
    ids = pq.read_table(ids_file)

    def run() -> None:
        (DeltaTable(state["uri"])
         .merge(ids, "t.id = s.id", source_alias="s", target_alias="t", writer_properties=ZSTD)
         .when_matched_delete().execute())

    return timed_change_data(run)


def add_column(column_file: str) -> dict[str, Any]:
    """MERGE with schema evolution: the new column by id (every file is rewritten)."""
    source = pq.read_table(column_file)
    name = [n for n in source.column_names if n != "id"][0]

    def run() -> None:
        (DeltaTable(state["uri"])
         .merge(source, "t.id = s.id", source_alias="s", target_alias="t", merge_schema=True,
                writer_properties=ZSTD)
         .when_matched_update({name: f"s.{name}"}).execute())

    return timed_change_data(run)


def update(rows_file: str) -> dict[str, Any]:
    """MERGE the updated rows by id (files holding one of them are rewritten)."""
    source = pq.read_table(rows_file)

    def run() -> None:
        (DeltaTable(state["uri"])
         .merge(source, "t.id = s.id", source_alias="s", target_alias="t",
                writer_properties=ZSTD)
         .when_matched_update_all().execute())

    return timed_change_data(run)


def restore(index: int) -> dict[str, Any]:
    """RESTORE the table version of an earlier step (a new version; files are reused)."""
    return timed(lambda: DeltaTable(state["uri"]).restore(state["versions"][index]))


def mark(index: int) -> dict[str, Any]:
    """Remember which table version holds this step."""
    state["versions"][index] = DeltaTable(state["uri"]).version()
    return {}


def diff(old: int, new: int, best: bool) -> dict[str, Any]:
    """Rows changed per type from the change data feed, or else data files added/removed."""
    first, last = state["versions"][old], state["versions"][new]
    if first == last:
        return {"seconds": 0.0, "detail": "same table version"}
    found: dict[str, int] = {}

    def by_rows() -> None:
        reader = DeltaTable(state["uri"]).load_cdf(starting_version=first + 1,
                                                   ending_version=last,
                                                   columns=["id", "_change_type"])
        table = pa.table(reader)  # ids and change types only: small
        for entry in pc.value_counts(table["_change_type"]).to_pylist():
            found[entry["values"]] = entry["counts"]

    def by_files() -> None:
        before = set(DeltaTable(state["uri"], version=first).file_uris())
        after = set(DeltaTable(state["uri"], version=last).file_uris())
        found["files added"], found["files removed"] = len(after - before), len(before - after)

    reply = timed(by_rows if best else by_files)
    reply["detail"] = ", ".join(f"{k} {v:,}" for k, v in sorted(found.items()))
    return reply


def load(index: int) -> pa.Table:
    """Time travel: every row of that step's version."""
    return DeltaTable(state["uri"], version=state["versions"][index]).to_pyarrow_table()


if __name__ == "__main__":
    serve_table_format(f"deltalake {deltalake.__version__}", {
        "create": create, "overwrite": overwrite, "append": append, "delete": delete,
        "add_column": add_column, "update": update, "restore": restore, "mark": mark,
        "diff": diff}, load)
