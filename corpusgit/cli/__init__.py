"""The ``cgit`` command: a typer app whose verbs live in one module per group.

Library errors (``CorpusGitError``) become ``error: ...`` plus ``hint: ...`` on stderr and the
error's exit code; anything else is a bug and shows a traceback only under ``--debug``.

Start-up is most of what a no-op ``cgit status`` costs (typer, its pydantic coercion and rich
take longer to import than 10,000 files take to stat), so this module imports neither: the typer
app lives in ``corpusgit.cli.root`` and is loaded on first use of ``corpusgit.cli.app``.
``main()`` runs ``status`` without it when the arguments are ones it knows exactly
(``[--debug]... status [--json | --short | -s]...``); anything else, including ``--help`` and
every usage error, goes through the typer app, so help and usage messages have one source.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from corpusgit.errors import CorpusGitError

if TYPE_CHECKING:
    from corpusgit.cli.root import CgitGroup as CgitGroup, app as app

# The options of the typer ``status`` command (worktree_cmds.status), by spelling; a test keeps
# this in step with the command, and a spelling missing here only costs the fast path.
_STATUS_FLAGS = {"--json": "json", "--short": "short", "-s": "short"}
_LAZY = ("app", "CgitGroup")  # built by corpusgit.cli.root on first access


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("corpusgit.cli.root"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def show_error(error: CorpusGitError) -> None:
    """One line of error, one of hint: what a user in a terminal or CI log needs."""
    from corpusgit.cli.render import err

    err.print(f"error: {error.message}", style="red")
    if error.hint:
        err.print(f"hint: {error.hint}")


def main() -> None:
    """Console-script entry point; like the typer app, it always ends by exiting."""
    try:
        fast = _fast_status_args(sys.argv[1:])
        if fast is None:
            from corpusgit.cli.root import app

            app()
        else:
            _run_status(*fast)
    except KeyboardInterrupt:
        from corpusgit.cli.render import err

        err.print("interrupted; the repository is unchanged by the unfinished step")
        sys.exit(130)


def _fast_status_args(args: list[str]) -> tuple[bool, bool, bool] | None:
    """``(debug, json, short)`` when ``args`` are ``[--debug]... status [flag]...``, else None.

    None also while a shell-completion request is pending (``_CGIT_COMPLETE`` and kin), which
    only the typer app answers.
    """
    debug = False
    while args and args[0] == "--debug":
        debug, args = True, args[1:]
    if not args or args[0] != "status" or not all(a in _STATUS_FLAGS for a in args[1:]):
        return None
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return None
    flags = {_STATUS_FLAGS[a] for a in args[1:]}
    return debug, "json" in flags, "short" in flags


def _run_status(debug: bool, json_: bool, short: bool) -> None:
    """``cgit status`` with the typer app's error handling: the one-line report and the
    error's exit code (a traceback under ``--debug``), exit 1 on a closed pipe."""
    from corpusgit.cli.status_view import show_status

    try:
        show_status(json_, short)
    except CorpusGitError as exc:
        if debug:
            raise
        show_error(exc)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper  # what the typer app does on EPIPE

        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        sys.exit(1)
    sys.exit(0)
