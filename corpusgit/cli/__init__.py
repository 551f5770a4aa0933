"""The ``cgit`` command: a typer app whose verbs live in one module per group.

Library errors (``CorpusGitError``) become ``error: ...`` plus ``hint: ...`` on stderr and the
error's exit code; anything else is a bug and shows a traceback only under ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from corpusgit.cli.render import err
from corpusgit.errors import CorpusGitError


def show_error(error: CorpusGitError) -> None:
    """One line of error, one of hint: what a user in a terminal or CI log needs."""
    err.print(f"error: {error.message}", style="red")
    if error.hint:
        err.print(f"hint: {error.hint}")


class CgitGroup(TyperGroup):
    """Turns library errors into the one-line report and the error's exit code."""

    debug = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CorpusGitError as exc:
            if CgitGroup.debug:
                raise
            show_error(exc)
            raise typer.Exit(exc.exit_code) from exc


app = typer.Typer(
    cls=CgitGroup,
    name="cgit",
    help="Git for LLM training corpora: version Parquet datasets by rows, not files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    CgitGroup.debug = debug


from corpusgit.cli import setup_cmds, worktree_cmds, history_cmds, refs_cmds, maint_cmds, diff_cmds, merge_cmds, remote_cmds, mix_cmds, run_cmds, quality_cmds  # noqa: E402,F401  (registers verbs)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted; the repository is unchanged by the unfinished step")
        sys.exit(130)
