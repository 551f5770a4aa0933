"""Helpers shared by the mix tests (a plain module: test files import it by name, which works
for every test directory because each adds its own folder to ``sys.path``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from corpusgit import Repo
from corpusgit.mix.create import create_mix
from corpusgit.mix.reader import MixReader
from corpusgit.mix.spec import parse_spec
from corpusgit.mix.storage import StoredMix

SMALL_ORDER = {"block_bytes": "32KiB", "window_blocks": 3}  # ~100 rows per block on this corpus


def spec_doc(**overrides: Any) -> dict[str, Any]:
    """A valid two-source spec (as parsed YAML); keyword arguments replace top-level keys."""
    doc: dict[str, Any] = {
        "seed": 7,
        "budget": {"tokens": "200k"},
        "order": dict(SMALL_ORDER),
        "shard_rows": 700,
        "sources": [
            {"name": "web", "path": "data/web", "ref": "main", "weight": 0.7, "filter": 'lang != "ko"'},
            {"name": "books", "path": "data/books", "ref": "main", "weight": 0.3, "max_epochs": 3},
        ],
    }
    doc.update(overrides)
    return doc


def make_mix(repo: Repo, doc: dict[str, Any] | None = None) -> StoredMix:
    return create_mix(repo, parse_spec(doc if doc is not None else spec_doc(), repo.root)).stored


def stream(repo: Repo, stored: StoredMix) -> pa.Table:
    """The whole mix as one table, read through the public reader."""
    return pa.Table.from_batches(list(MixReader.open(repo, stored).batches(333)))


def row_ids(table: pa.Table) -> list[bytes]:
    return table.column("_cgit_row").to_pylist()


def shares_by_source(table: pa.Table, counts: np.ndarray | None = None) -> dict[str, float]:
    """Fraction of ``counts`` (or of samples) per ``_source``."""
    names = np.array(table.column("_source").to_pylist())
    weights = counts if counts is not None else np.ones(len(names))
    total = float(weights.sum())
    return {str(n): float(weights[names == n].sum()) / total for n in np.unique(names)}
