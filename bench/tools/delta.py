"""Delta Lake (delta-rs, package `deltalake`) in bench/.venvs/delta; see table_format.py."""

from __future__ import annotations

from tools.table_format import TableFormatRunner

# pyarrow is pinned to corpusgit's, so every tool reads the shards with the same library.
REQUIREMENTS = ["deltalake==1.6.6", "pyarrow==26.0.1"]


class DeltaOverwrite(TableFormatRunner):
    """write_deltalake(mode="overwrite") of every version's shards."""

    name = "Delta (overwrite)"
    storage = "table directory"
    granularity = "file (log: files added/removed)"
    checkout_means = "DeltaTable(version=0).to_pyarrow_table() (time travel read)"
    venv = "delta"
    requirements = REQUIREMENTS
    ops_script = "delta_ops.py"
    best = False


class DeltaBest(DeltaOverwrite):
    """append / delete (MERGE on ids) / MERGE (schema evolution) / MERGE / RESTORE.

    The change data feed is on: it is what gives Delta a row-level diff, and its files are
    counted (each commit's detail says how many bytes they took).
    """

    name = "Delta (best)"
    granularity = "row (change data feed; updates as pre/post images)"
    best = True
