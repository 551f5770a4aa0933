"""Lance (package `pylance`) in bench/.venvs/lance; see table_format.py."""

from __future__ import annotations

from tools.table_format import TableFormatRunner

# pyarrow is pinned to corpusgit's, so every tool reads the shards with the same library.
REQUIREMENTS = ["pylance==14.0.2", "pyarrow==26.0.1"]


class LanceOverwrite(TableFormatRunner):
    """write_dataset(mode="overwrite") of every version's shards."""

    name = "Lance (overwrite)"
    storage = "dataset directory"
    granularity = "version (operations between versions)"
    checkout_means = "lance.dataset(version=1).to_table() (time travel read)"
    venv = "lance"
    requirements = REQUIREMENTS
    ops_script = "lance_ops.py"
    best = False


class LanceBest(LanceOverwrite):
    """append / delete / add_columns / merge_insert / restore, stable row ids on."""

    name = "Lance (best)"
    granularity = "row (inserted/updated/deleted, stable row ids)"
    best = True
