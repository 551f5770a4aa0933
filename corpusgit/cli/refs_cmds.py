"""branch, tag, reset, reflog."""

from __future__ import annotations

from typing import Optional

import typer
from rich.text import Text

from corpusgit.branches import create_branch, create_tag, delete_branch, delete_tag, list_branches, list_tags, rename_branch
from corpusgit.cli import app
from corpusgit.cli.render import out, print_json, progress_for
from corpusgit.repo import Repo


@app.command()
def branch(
    name: Optional[str] = typer.Argument(None, help="Branch to create (omit to list)."),
    start: Optional[str] = typer.Argument(None, help="Start point (default HEAD)."),
    delete: bool = typer.Option(False, "-d", "--delete", help="Delete a merged branch."),
    force_delete: bool = typer.Option(False, "-D", help="Delete a branch even if unmerged."),
    move: Optional[str] = typer.Option(None, "-m", "--move", help="Rename NAME to this."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List, create, delete or rename branches."""
    repo = Repo.open()
    if name is None:
        infos = list_branches(repo)
        if json_:
            print_json([{"name": b.name, "commit": b.commit, "current": b.current} for b in infos])
            return
        for b in infos:
            line = Text("* " if b.current else "  ")
            line.append(b.name, style="green" if b.current else "")
            line.append(f"  {b.commit[:12]}", style="dim")
            out.print(line)
        return
    if delete or force_delete:
        oid = delete_branch(repo, name, force=force_delete)
        out.print(f"Deleted branch {name} (was {oid[:12]})")
    elif move:
        rename_branch(repo, name, move)
        out.print(f"Renamed branch {name} → {move}")
    else:
        oid = create_branch(repo, name, start or "HEAD")
        out.print(f"Created branch {name} at {oid[:12]}")


@app.command()
def tag(
    name: Optional[str] = typer.Argument(None, help="Tag to create (omit to list)."),
    rev: str = typer.Argument("HEAD", help="Commit to tag."),
    delete: bool = typer.Option(False, "-d", "--delete", help="Delete the tag."),
    force: bool = typer.Option(False, "-f", "--force", help="Move an existing tag."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List, create or delete tags (names for exact corpus versions)."""
    repo = Repo.open()
    if name is None:
        tags = list_tags(repo)
        if json_:
            print_json([{"name": n, "commit": oid} for n, oid in tags.items()])
            return
        for n, oid in tags.items():
            out.print(Text(n).append(f"  {oid[:12]}", style="dim"))
        return
    if delete:
        delete_tag(repo, name)
        out.print(f"Deleted tag {name}")
        return
    oid = create_tag(repo, name, rev, force)
    out.print(f"Tagged {oid[:12]} as {name}")


@app.command()
def reset(
    rev: str = typer.Argument("HEAD", help="Commit to move the current branch to."),
    soft: bool = typer.Option(False, "--soft", help="Move the branch only; index and work tree stay."),
    hard: bool = typer.Option(False, "--hard", help="Also make the work tree match (discards local changes)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Move the current branch to REV; the index follows (default), and with --hard the work tree."""
    from corpusgit.errors import BadInput
    from corpusgit.reset import reset as do_reset

    if soft and hard:
        raise BadInput("--soft and --hard exclude each other", hint="--soft moves only the branch; --hard moves branch, index and work tree")
    repo = Repo.open()
    result = do_reset(repo, rev, "soft" if soft else "hard" if hard else "mixed", progress_for(quiet))
    was = f" (was {result.old[:12]})" if result.old and result.old != result.new else ""
    out.print(f"HEAD is now at {result.new[:12]}{was}")
    if result.mode == "hard" and not quiet:
        out.print(f"{result.written} written, {result.removed} removed", style="dim")
    elif result.mode != "hard" and result.old != result.new:
        target = repo.refs.head_target()
        previous = f"{target[len('refs/heads/'):]}@{{1}}" if target else "HEAD@{1}"
        out.print(f"undo with: cgit reset {'--soft ' if soft else ''}{previous}", style="dim")


@app.command()
def reflog(
    ref: str = typer.Argument("HEAD", help="HEAD or a branch."),
    limit: Optional[int] = typer.Option(None, "-n", "--max-count", help="Show at most this many entries."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Where HEAD or a branch has pointed, newest first; NAME@{n} names those commits."""
    import datetime as dt

    from corpusgit.errors import RevisionNotFound
    from corpusgit.refs import HEADS

    repo = Repo.open()
    name = ref if ref == "HEAD" or ref.startswith("refs/") else HEADS + ref
    entries = [e for e in reversed(repo.refs.reflog(name)) if e.new]
    if not entries and ref != "HEAD" and repo.refs.read(name) is None:
        raise RevisionNotFound(f"no branch '{ref}'", hint="'cgit branch' lists the branches")
    entries = entries[:limit] if limit is not None else entries
    if json_:
        print_json([{"selector": f"{ref}@{{{n}}}", "commit": e.new, "previous": e.old, "time": e.time, "message": e.message} for n, e in enumerate(entries)])
        return
    for n, e in enumerate(entries):
        when = dt.datetime.fromtimestamp(e.time).strftime("%Y-%m-%d %H:%M")
        line = Text(f"{(e.new or '')[:12]} ", style="yellow")
        line.append(f"{ref}@{{{n}}}: ").append(e.message).append(f"  {when}", style="dim")
        out.print(line)
