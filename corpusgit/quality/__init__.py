"""Quality gates: checks that run on every commit and merge, over rows, with results cached
per chunk and stored as a report linked from the commit.

Public API (none of it imports pyarrow until a check actually runs):

- ``run_hooks(repo, stage, changes, target_branch, no_verify) -> HookRun`` for ``commit`` and
  ``merge``; ``table_changes(repo, tree, base)`` builds ``changes``.
- ``Outcome``, ``Measure``, ``CheckContext``, ``BuiltinCheck``, ``Param`` for writing checks.
- ``Report``/``read_report`` for reading stored reports.

See ``docs/quality.md``.
"""

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from corpusgit.quality.report import ChecksFailed, CheckResult, Report, read_report
from corpusgit.quality.runner import HookRun, TableChange, run_hooks, table_changes

__all__ = [
    "BuiltinCheck", "CheckContext", "CheckResult", "ChecksFailed", "HookRun", "Measure", "Outcome", "Param", "Report",
    "TableChange", "read_report", "run_hooks", "table_changes",
]
