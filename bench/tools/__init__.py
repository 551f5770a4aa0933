"""The tools bench/run.py compares, in report column order (corpusgit first)."""

from __future__ import annotations

from tools.base import Runner
from tools.cgit import CorpusgitRunner
from tools.delta import DeltaBest, DeltaOverwrite
from tools.dvc import DvcRunner
from tools.git_lfs import GitLfsRunner
from tools.lance import LanceBest, LanceOverwrite
from tools.oxen import OxenRunner

RUNNERS: tuple[type[Runner], ...] = (CorpusgitRunner, DvcRunner, GitLfsRunner, OxenRunner,
                                     DeltaOverwrite, DeltaBest, LanceOverwrite, LanceBest)
