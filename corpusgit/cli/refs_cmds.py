"""branch, tag."""

from __future__ import annotations

from typing import Optional

import typer
from rich.text import Text

from corpusgit.branches import create_branch, create_tag, delete_branch, delete_tag, list_branches, list_tags, rename_branch
from corpusgit.cli import app
from corpusgit.cli.render import out, print_json
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
