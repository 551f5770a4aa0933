"""init, config, quickstart."""

from __future__ import annotations

from pathlib import Path

import typer

from corpusgit.cli import app
from corpusgit.cli.render import out, print_json
from corpusgit.config import get_value, set_value, user_config_path
from corpusgit.repo import Repo


@app.command()
def init(
    path: Path = typer.Argument(Path("."), help="Directory to turn into a repository."),
    branch: str = typer.Option("main", "--initial-branch", "-b", help="Name of the first branch."),
) -> None:
    """Create an empty repository (safe to run again)."""
    existed = (path / ".cgit" / "HEAD").exists()
    repo = Repo.init(path, branch)
    verb = "Reinitialized existing" if existed else "Initialized empty"
    out.print(f"{verb} cgit repository in {repo.cgit}")


@app.command()
def config(
    key: str = typer.Argument(..., help="section.key, e.g. user.name"),
    value: str = typer.Argument(None, help="New value; omit to print the current one."),
    global_: bool = typer.Option(False, "--global", help="Use the user's config instead of this repository's."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Read or set a setting (user.name, user.email, ...)."""
    path = user_config_path() if global_ else Repo.open().config_path
    if value is None:
        paths = [path] if global_ else [path, user_config_path()]
        current = get_value(paths, key)
        if json_:
            print_json({key: current})
        elif current is None:
            raise typer.Exit(1)
        else:
            out.print(current)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    set_value(path, key, value)


@app.command()
def quickstart(
    directory: Path = typer.Option(Path("cgit-quickstart"), "--dir", help="Where to build the demo repository."),
    mb: int = typer.Option(20, "--mb", help="Size of the demo corpus in MB."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Build a demo corpus from text on this machine, commit, edit, commit, and show log and du."""
    from corpusgit.cli.quickstart import run_quickstart

    run_quickstart(directory, mb, quiet)
