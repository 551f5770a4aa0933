"""remote, clone, fetch, pull, push; DVC and lakeFS bridges."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from corpusgit.cli import app
from corpusgit.cli.render import err, human_bytes, out, print_json, progress_for
from corpusgit.progress import NULL_PROGRESS, Progress, Task
from corpusgit.repo import Repo
from corpusgit.store.canonical import is_object_id

if TYPE_CHECKING:
    from corpusgit.remote.fetch import FetchResult, RefUpdate

JOBS_HELP = "Parallel transfers."
remote_app = typer.Typer(help="Add, remove and list remotes.", no_args_is_help=True)
app.add_typer(remote_app, name="remote")


class _TransferTask:
    """One bar: bytes done of total with speed, and the object count (one ``advance`` = one object)."""

    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress = progress
        self._id = task_id
        self._objects = 0
        self._lock = threading.Lock()

    def advance(self, amount: int = 1) -> None:
        with self._lock:
            self._objects += 1
            self._progress.update(self._id, advance=amount, objects=self._objects)


class _TransferBar:
    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Task]:
        from rich.progress import BarColumn, DownloadColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TextColumn("{task.fields[objects]:,} objects"), TimeRemainingColumn()]
        with RichProgress(*columns, console=err, transient=True) as bar:
            yield _TransferTask(bar, bar.add_task(description, total=total, objects=0))


def transfer_progress(quiet: bool) -> Progress:
    """Bytes and objects on an interactive terminal; nothing in pipes, CI logs or with -q."""
    return NULL_PROGRESS if progress_for(quiet) is NULL_PROGRESS else _TransferBar()


def _short(ref: str) -> str:
    """A ref as users name it; a mix by the 12-digit prefix the mix commands accept."""
    if ref.startswith("refs/mixes/"):
        name = ref[len("refs/mixes/"):]
        return f"mix {name[:12] if is_object_id(name) else name}"
    for prefix in ("refs/remotes/", "refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def _print_updates(updates: list[RefUpdate]) -> None:
    for u in updates:
        span = f"{u.old[:12]}..{u.new[:12]}" if u.old else u.new[:12]
        out.print(f" {span:<26} {_short(u.ref):<30} {u.note}")


def _print_fetch(result: FetchResult) -> None:
    _print_updates(result.updates)
    line = f"received {result.objects:,} objects ({human_bytes(result.bytes)}) from {result.remote}"
    if result.chunks_not_fetched:
        line += f"; {result.chunks_not_fetched:,} chunks left on the remote until read (partial clone)"
    out.print(line, style="dim")


# -- remote -----------------------------------------------------------------------------------
@remote_app.command("add")
def remote_add(
    name: str = typer.Argument(..., help="Remote name, e.g. origin."),
    url: str = typer.Argument(..., help="A directory (local or NFS), file:///PATH or s3://BUCKET/PREFIX."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help="S3-compatible endpoint (MinIO, Ceph, lakeFS gateway)."),
) -> None:
    """Add a remote."""
    from corpusgit.remote.settings import add_remote

    config = add_remote(Repo.open(), name, url, endpoint_url)
    out.print(f"added remote {config.name} → {config.url}")


@remote_app.command("remove")
def remote_remove(name: str = typer.Argument(..., help="Remote to forget.")) -> None:
    """Remove a remote and its remote-tracking branches."""
    from corpusgit.remote.settings import remove_remote

    remove_remote(Repo.open(), name)
    out.print(f"removed remote {name}")


@remote_app.command("list")
def remote_list(json_: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List remotes with their URLs."""
    from corpusgit.remote.settings import list_remotes

    remotes = list_remotes(Repo.open())
    if json_:
        print_json(remotes)
        return
    for r in remotes:
        out.print(f"{r.name}\t{r.url}" + (f"\t(endpoint {r.endpoint})" if r.endpoint else ""))


# -- transfers ----------------------------------------------------------------------------------
@app.command()
def clone(
    url: str = typer.Argument(..., help="Directory, file:///PATH or s3://BUCKET/PREFIX."),
    directory: Optional[Path] = typer.Argument(None, help="New directory (default: last part of the URL)."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="'metadata': fetch commits, trees and tables; chunks only when read."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help="S3-compatible endpoint."),
    no_checkout: bool = typer.Option(False, "--no-checkout", "-n", help="Do not write the files of the default branch."),
    verify_content: bool = typer.Option(False, "--verify-content", help="Also recompute every chunk's content id (slow)."),
    jobs: int = typer.Option(8, "--jobs", "-j", min=1, help=JOBS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Copy a remote repository into a new directory (rerun to resume an interrupted clone)."""
    from corpusgit.remote.fetch import clone as do_clone

    repo, result = do_clone(url, directory, endpoint_url, filter_, not no_checkout, jobs, transfer_progress(quiet or json_), verify_content)
    if json_:
        print_json({"path": str(repo.root), "fetch": result})
        return
    _print_fetch(result)
    out.print(f"cloned into {repo.root}")


@app.command()
def fetch(
    remote: str = typer.Argument("origin", help="Remote name."),
    verify_content: bool = typer.Option(False, "--verify-content", help="Also recompute every chunk's content id (slow)."),
    jobs: int = typer.Option(8, "--jobs", "-j", min=1, help=JOBS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Download the remote's branches (as REMOTE/BRANCH), tags, mixes and the objects they need."""
    from corpusgit.remote.fetch import fetch as do_fetch

    result = do_fetch(Repo.open(), remote, jobs, transfer_progress(quiet or json_), verify_content)
    if json_:
        print_json(result)
        return
    _print_fetch(result)


@app.command()
def pull(
    remote: str = typer.Argument("origin", help="Remote name."),
    branch: Optional[str] = typer.Argument(None, help="Remote branch (default: the current branch's name)."),
    jobs: int = typer.Option(8, "--jobs", "-j", min=1, help=JOBS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fetch, then fast-forward the current branch (three-way merge if the histories diverged)."""
    from corpusgit.remote.fetch import pull as do_pull

    result = do_pull(Repo.open(), remote, branch, jobs, transfer_progress(quiet or json_))
    if json_:
        print_json(result)
        return
    _print_fetch(result.fetch)
    if result.merge is not None:
        from corpusgit.cli.merge_cmds import _report

        _report(result.merge, f"{remote}/{result.branch}")
    elif result.how == "fast-forward":
        out.print(f"fast-forward {(result.old or '')[:12]}..{(result.new or '')[:12]}")
    else:
        out.print("already up to date" if result.how == "up to date" else f"{result.branch} is ahead of {remote}/{result.branch}; nothing to pull")


@app.command()
def push(
    remote: str = typer.Argument("origin", help="Remote name."),
    branch: Optional[str] = typer.Argument(None, help="Branch to push (default: the current one)."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite the remote branch even if that drops its commits."),
    tags: bool = typer.Option(False, "--tags", help="Push all tags (and the branch only if named)."),
    mixes: bool = typer.Option(False, "--mixes", help="Push all mixes (and the branch only if named)."),
    jobs: int = typer.Option(8, "--jobs", "-j", min=1, help=JOBS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Send a branch (with --tags / --mixes: the tags / mixes) plus the objects the remote lacks."""
    from corpusgit.remote.push import push as do_push

    result = do_push(Repo.open(), remote, branch, force, tags, jobs, transfer_progress(quiet or json_), mixes)
    if json_:
        print_json(result)
        return
    if result.created:
        out.print(f"created a new repository at remote {remote}")
    _print_updates(result.updates)
    if not result.updates:
        out.print("everything up to date")
    out.print(f"sent {result.objects:,} objects ({human_bytes(result.bytes)}); {result.already_there:,} were already there", style="dim")


# -- bridges ------------------------------------------------------------------------------------
@app.command("import-dvc")
def import_dvc(
    dvc_repo: Path = typer.Argument(..., help="Path of a git+DVC repository."),
    path: str = typer.Argument(..., help="DVC-tracked directory (or file) inside it."),
    rev: Optional[str] = typer.Option(None, "--rev", help="Git revision of the DVC repository (default HEAD)."),
    to: Optional[str] = typer.Option(None, "--to", help="Where to put it in this repository (default: the same path)."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Import a DVC-tracked Parquet directory as a commit whose lineage names the DVC repo, rev and md5."""
    from corpusgit.bridges.dvc import import_dvc as do_import

    result = do_import(Repo.open(), dvc_repo, path, rev, to)
    if json_:
        print_json(result)
        return
    out.print(f"imported {result.files} file(s) into {result.path} as {result.commit[:12]} (DVC {result.rev[:12]}, md5 {result.md5}; lineage {result.lineage[:12]})")


@app.command("export-dvc")
def export_dvc(
    rev: str = typer.Argument(..., help="Revision to export."),
    path: str = typer.Argument(..., help="Directory (or file) to export; the same path is used in the DVC repository."),
    dvc_repo: Path = typer.Argument(..., help="Path of a git+DVC repository."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write a version into a DVC repository as a DVC-tracked directory (the .dvc file is staged in git)."""
    from corpusgit.bridges.dvc import export_dvc as do_export

    result = do_export(Repo.open(), rev, path, dvc_repo)
    if json_:
        print_json(result)
        return
    out.print(f"exported {result.files} file(s) of {result.commit[:12]} to {result.dvc_file} (md5 {result.md5}); commit it in the DVC repository")


@app.command("export-lakefs")
def export_lakefs(
    rev: str = typer.Argument(..., help="Revision to publish."),
    url: str = typer.Argument(..., help="lakefs://REPOSITORY/BRANCH/PATH"),
    path: str = typer.Option("", "--path", help="Only this directory or file of the revision."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help="lakeFS server (default: LAKEFS_ENDPOINT)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Publish a materialised version to a lakeFS branch; its commit metadata carries the cgit ids."""
    from corpusgit.bridges.lakefs import export_lakefs as do_export

    result = do_export(Repo.open(), rev, url, path, endpoint_url, progress_for(quiet or json_))
    if json_:
        print_json(result)
        return
    out.print(f"published {result.files} file(s) of {result.commit[:12]} to {url} as lakeFS commit {result.lakefs_commit[:12]} ({result.deleted} stale removed)")
