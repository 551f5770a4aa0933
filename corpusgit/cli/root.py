"""The typer app: the root group, its ``--debug`` option and every verb's registration.

Importing this module imports typer and every command module, which costs more than a no-op
``status`` itself; ``corpusgit.cli.main`` therefore loads it only when it is needed (see
``corpusgit.cli``). ``from corpusgit.cli import app`` still works and loads it on first use.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from corpusgit.cli import show_error
from corpusgit.errors import CorpusGitError


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


app: typer.Typer = typer.Typer(
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
