"""Lance (the `pylance` package) served to bench/tools/lance.py.

Runs inside bench/.venvs/lance. Two ways of use share these operations:
- overwrite: every version is `write_dataset(mode="overwrite")` of the shards;
- best: the native operation per edit — append, delete (deletion files), add_columns (new
  column files only), merge_insert for updated rows, restore for a revert — with stable row
  ids, which is what gives Lance a row-level diff between versions.

Operations are stateless (each request names the table and its versions), so the runner can
start a fresh worker for every step, as a pipeline step runs in its own process; memory that
a large rewrite leaves behind in one step then does not carry into the next.
"""

from __future__ import annotations

from typing import Any

import lance
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from serve import serve_table_format, timed

# Lance leaves strings lightly compressed unless a field asks for more; the shards are zstd
# level 3 Parquet, so Lance gets the same (both ways of use), or it would pay ~2x for text.
ZSTD = {"lance-encoding:compression": "zstd", "lance-encoding:compression-level": "3"}


def with_zstd(schema: pa.Schema) -> pa.Schema:
    """The schema with zstd requested for every string field."""
    return pa.schema([f.with_metadata(ZSTD) if pa.types.is_string(f.type) else f
                      for f in schema])


def shards(files: list[str]) -> pa.RecordBatchReader:
    """The shards as one stream (no version has to fit in memory), strings zstd-compressed."""
    dataset = ds.dataset(files, format="parquet")
    schema = with_zstd(dataset.schema)
    return pa.RecordBatchReader.from_batches(
        schema, (batch.cast(schema) for batch in dataset.to_batches()))


def sql_in(column: str, values: list[str]) -> str:
    """A SQL `column IN (...)` predicate over string literals."""
    quoted = ",".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def create(uri: str, files: list[str], best: bool) -> dict[str, Any]:
    """The first version; stable row ids are a dataset property set at creation."""
    return timed(lambda: lance.write_dataset(shards(files), uri, mode="create",
                                             enable_stable_row_ids=best))


def overwrite(uri: str, files: list[str]) -> dict[str, Any]:
    """Replace the whole dataset with the shards."""
    return timed(lambda: lance.write_dataset(shards(files), uri, mode="overwrite"))


def append(uri: str, files: list[str]) -> dict[str, Any]:
    """Add the new shards' rows as new fragments."""
    return timed(lambda: lance.write_dataset(shards(files), uri, mode="append"))


def delete(uri: str, ids_file: str) -> dict[str, Any]:
    """delete(id IN (...)): writes deletion files, leaves the data files alone."""
    ids = pq.read_table(ids_file)["id"].to_pylist()
    return timed(lambda: lance.dataset(uri).delete(sql_in("id", ids)))


def add_column(uri: str, column_file: str) -> dict[str, Any]:
    """add_columns with a UDF that looks the new column up by id: writes only that column."""
    source = pq.read_table(column_file).combine_chunks()
    name = [n for n in source.column_names if n != "id"][0]
    schema = pa.schema([source.schema.field(name)])
    values = source[name].chunk(0)
    position: dict[str, int] = {}

    @lance.batch_udf(output_schema=schema)
    def lookup(batch: pa.RecordBatch) -> pa.RecordBatch:
        rows = pa.array([position[key] for key in batch["id"].to_pylist()], pa.int64())
        return pa.record_batch([values.take(rows)], schema=schema)

    def run() -> None:
        # pc.index_in would rebuild a hash table of every id for each batch; this dict is
        # built once (and timed, as part of the operation).
        position.update((key, index) for index, key in enumerate(source["id"].to_pylist()))
        lance.dataset(uri).add_columns(lookup, read_columns=["id"])

    return timed(run)


def update(uri: str, rows_file: str) -> dict[str, Any]:
    """merge_insert on id: matched rows are rewritten to a new fragment, old ones deleted."""
    source = pq.read_table(rows_file)
    return timed(lambda: lance.dataset(uri).merge_insert("id")
                 .when_matched_update_all().execute(source))


def restore(uri: str, table_version: int) -> dict[str, Any]:
    """restore() an earlier version as the latest (its files are reused)."""
    return timed(lambda: lance.dataset(uri, version=table_version).restore())


def current_version(uri: str) -> dict[str, Any]:
    """The dataset's latest version number."""
    return {"version": lance.dataset(uri).version}


def count(reader: pa.RecordBatchReader) -> int:
    """Rows in a stream."""
    return sum(batch.num_rows for batch in reader)


def diff(uri: str, first: int, last: int, best: bool) -> dict[str, Any]:
    """Rows inserted/updated/deleted (stable row ids), or else the operations in between."""
    if first == last:
        return {"seconds": 0.0, "detail": "same dataset version"}
    found: dict[str, Any] = {}

    def run() -> None:
        delta = lance.dataset(uri).delta(begin_version=first, end_version=last)
        if best:
            found["inserted"] = count(delta.get_inserted_rows())
            found["updated"] = count(delta.get_updated_rows())
            found["deleted"] = count(delta.get_deleted_row_ids())
        else:
            found["operations"] = "+".join(type(t.operation).__name__
                                           for t in delta.list_transactions())

    reply = timed(run)
    reply["detail"] = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                for k, v in found.items())
    return reply


def scan(uri: str, table_version: int) -> pa.RecordBatchReader:
    """Time travel: stream every row of a dataset version."""
    return lance.dataset(uri, version=table_version).scanner().to_reader()


if __name__ == "__main__":
    serve_table_format(f"pylance {lance.__version__}", {
        "create": create, "overwrite": overwrite, "append": append, "delete": delete,
        "add_column": add_column, "update": update, "restore": restore,
        "current_version": current_version, "diff": diff}, scan)
