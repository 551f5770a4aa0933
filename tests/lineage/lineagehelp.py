"""Lineage test helpers: the real-text corpus (loaded by path from ``tests/ops/realtext.py``).
A module of its own (not ``conftest``), so test modules import it unambiguously when several
test directories are collected together. The CLI runner and the repository snapshot are in
``tests/clirun.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("realtext", Path(__file__).resolve().parent.parent / "ops" / "realtext.py")
assert _spec is not None and _spec.loader is not None
realtext = sys.modules.get("realtext") or importlib.util.module_from_spec(_spec)
if "realtext" not in sys.modules:
    sys.modules["realtext"] = realtext
    _spec.loader.exec_module(realtext)

RAW = "data/raw/web.parquet"
