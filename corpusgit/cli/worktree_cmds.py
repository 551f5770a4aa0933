"""add, status, rm, mv, checkout, switch, restore."""

from __future__ import annotations

from typing import Optional

import typer

from corpusgit.cli import app
from corpusgit.cli.render import human_bytes, out, print_json, progress_for
from corpusgit.cli.status_view import change_line, show_status
from corpusgit.repo import Repo
from corpusgit.worktree import mv as do_mv, rm as do_rm

_change_line = change_line  # history_cmds shows a commit's changes the way status shows them


@app.command()
def add(
    paths: list[str] = typer.Argument(..., help="Files or directories; Parquet files become tables."),
    force: bool = typer.Option(False, "--force", "-f", help="Add files even if .cgitignore lists them."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    json_: bool = typer.Option(False, "--json", help="Print what was staged as JSON (no progress bar)."),
) -> None:
    """Stage files: tables are matched row by row against their previous versions."""
    from corpusgit.add import add as do_add

    result = do_add(Repo.open(), paths, progress_for(quiet or json_), force=force)
    if json_:
        print_json({"changed": result.added, "unchanged": result.unchanged, "new_bytes": result.new_bytes})
        return
    if quiet:
        return
    for change in result.added:
        out.print(_change_line(change))
    out.print(f"{len(result.added)} changed, {result.unchanged} unchanged, {human_bytes(result.new_bytes)} new data stored", style="dim")


@app.command()
def status(
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    short: bool = typer.Option(False, "--short", "-s", help="One line per file."),
) -> None:
    """Show staged, unstaged and untracked files, with row counts for tables."""
    show_status(json_, short)


@app.command()
def rm(
    paths: list[str] = typer.Argument(..., help="Tracked files or directories."),
    cached: bool = typer.Option(False, "--cached", help="Untrack only; keep the files on disk."),
    recursive: bool = typer.Option(False, "-r", help="Allow directories."),
) -> None:
    """Stop tracking files (and delete them unless --cached)."""
    for path in do_rm(Repo.open(), paths, cached, recursive):
        out.print(f"rm '{path}'")


@app.command()
def mv(src: str = typer.Argument(...), dst: str = typer.Argument(...)) -> None:
    """Rename a tracked file; its data is not copied."""
    s, d = do_mv(Repo.open(), src, dst)
    out.print(f"renamed {s} → {d}")


@app.command()
def checkout(
    rev: str = typer.Argument(..., help="Branch, tag or commit."),
    paths: Optional[list[str]] = typer.Argument(None, help="After '--': restore only these paths from REV."),
    force: bool = typer.Option(False, "--force", "-f", help="Discard local changes that would be overwritten."),
    detach: bool = typer.Option(False, "--detach", help="Detach HEAD even when REV is a branch."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Make the work tree match REV (tables come back logically identical)."""
    from corpusgit.checkout import checkout as do_checkout, restore as do_restore

    repo = Repo.open()
    if paths:
        n = do_restore(repo, rev, paths)
        out.print(f"Restored {n} file{'s' if n != 1 else ''} from {rev}")
        return
    result = do_checkout(repo, rev, force=force, progress=progress_for(quiet), detach=detach)
    where = f"branch '{result.branch}'" if result.branch else f"detached HEAD at {result.commit[:12]}"
    if not quiet:
        out.print(f"Switched to {where} ({result.written} written, {result.removed} removed)")


@app.command()
def switch(
    branch: str = typer.Argument(..., help="Branch to switch to (or to create with -c)."),
    start: Optional[str] = typer.Argument(None, help="Start point for -c (default HEAD)."),
    create: bool = typer.Option(False, "--create", "-c", help="Create the branch first."),
    detach: bool = typer.Option(False, "--detach", help="Detach HEAD at the given revision."),
    force: bool = typer.Option(False, "--force", "-f", help="Discard local changes that would be overwritten."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Switch branches (git switch)."""
    from corpusgit.checkout import checkout as do_checkout, create_branch_and_switch

    repo = Repo.open()
    if create:
        result = create_branch_and_switch(repo, branch, start or "HEAD")
    else:
        result = do_checkout(repo, branch, force=force, progress=progress_for(quiet), detach=detach)
    where = f"branch '{result.branch}'" if result.branch else f"detached HEAD at {result.commit[:12]}"
    out.print(f"Switched to {'a new ' if create else ''}{where}")


@app.command()
def restore(
    paths: list[str] = typer.Argument(..., help="Files or directories to restore."),
    source: str = typer.Option("HEAD", "--source", "-s", help="Revision to restore from."),
    staged: bool = typer.Option(False, "--staged", "-S", help="Unstage: reset only the index entries; files stay as they are."),
) -> None:
    """Bring files back from a revision into the work tree and index (--staged: only the index)."""
    if staged:
        from corpusgit.reset import unstage

        n = unstage(Repo.open(), paths, source)
        out.print(f"Unstaged {n} path{'s' if n != 1 else ''}")
        return
    from corpusgit.checkout import restore as do_restore

    n = do_restore(Repo.open(), source, paths)
    out.print(f"Restored {n} file{'s' if n != 1 else ''} from {source}")
