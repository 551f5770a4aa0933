"""du, fsck, gc."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from corpusgit.cli import app
from corpusgit.cli.render import err, human_bytes, human_count, out, print_json, progress_for
from corpusgit.gc import DEFAULT_GRACE_SECONDS
from corpusgit.repo import Repo


@app.command()
def du(
    rev: str = typer.Argument("HEAD", help="Revision."),
    tables: bool = typer.Option(False, "--tables", "-t", help="Per table of REV instead of per commit."),
    max_count: Optional[int] = typer.Option(None, "--max-count", "-n", help="Commits to show."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Logical bytes versus bytes actually stored, per commit (or per table)."""
    from corpusgit.du import commit_usage, table_usage

    repo = Repo.open()
    if tables:
        per_table = table_usage(repo, rev)
        if json_:
            print_json(per_table)
            return
        t = Table(title=f"tables at {rev}", title_justify="left")
        t.add_column("path", no_wrap=True)
        for col in ("rows", "segments", "chunks", "logical", "stored", "new vs parent"):
            t.add_column(col, justify="right", no_wrap=True)
        for u in per_table:
            t.add_row(u.path, human_count(u.rows), human_count(u.segments), human_count(u.chunks),
                      human_bytes(u.logical_bytes), human_bytes(u.stored_bytes), human_bytes(u.new_bytes))
        out.print(t)
        return
    usage = commit_usage(repo, rev, max_count)
    if json_:
        print_json(usage)
        return
    t = Table(title="storage per commit (newest first)", title_justify="left")
    t.add_column("commit", no_wrap=True)
    t.add_column("message", overflow="ellipsis", no_wrap=True, max_width=48)
    for col in ("tables", "rows", "logical", "added", "% of logical"):
        t.add_column(col, justify="right", no_wrap=True)
    for c in usage:
        pct = f"{100 * c.added_bytes / c.logical_bytes:.2f}%" if c.logical_bytes else "-"
        t.add_row(c.commit[:12], c.subject, str(c.tables), human_count(c.rows), human_bytes(c.logical_bytes), human_bytes(c.added_bytes), pct)
    out.print(t)
    total = sum(c.added_bytes for c in usage)
    out.print(f"store holds {human_bytes(total)} for {len(usage)} commits", style="dim")


@app.command()
def fsck(
    full: bool = typer.Option(False, "--full", help="Also recompute every chunk's content id (slow)."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Check that every reachable object is present and matches its id."""
    from corpusgit.fsck import fsck as do_fsck

    report = do_fsck(Repo.open(), full=full, progress=progress_for(quiet or json_))
    if json_:
        print_json({"ok": report.ok, "checked": report.checked, "problems": report.problems, "dangling": report.dangling, "warnings": report.warnings})
    else:
        for p in report.problems:
            err.print(f"error: {p.message}", style="red")
        for w in report.warnings:
            err.print(f"warning: {w}", style="yellow")
        checked = ", ".join(f"{n:,} {k}s" for k, n in sorted(report.checked.items()))
        out.print(f"checked {checked}; {len(report.problems)} problem(s); {report.dangling} dangling object(s)")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def gc(
    now: bool = typer.Option(False, "--now", help="Also drop unreachable objects younger than the grace period."),
    grace: Optional[int] = typer.Option(None, "--grace", help=f"Keep unreachable objects younger than this many seconds (default {DEFAULT_GRACE_SECONDS})."),
    prune: Optional[str] = typer.Option(
        None, "--prune", metavar="WHEN",
        help="Expire reflog entries and drop unreachable objects older than WHEN ('now', '2.weeks.ago', 'never'). "
             "'now' frees all that no branch, tag, HEAD or the index needs. Default: reflog entries older than "
             "gc.reflogExpire (90.days) expire, and --grace applies to objects.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Only report what would be removed."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Expire old reflog entries, then delete objects unreachable from refs, tags, reflogs and the index."""
    from corpusgit.errors import BadInput
    from corpusgit.gc import gc as do_gc

    if prune is not None and (now or grace is not None):
        raise BadInput("--prune sets the age for objects too", hint="use --prune WHEN alone, or --now / --grace N without it")
    result = do_gc(Repo.open(), 0 if now else DEFAULT_GRACE_SECONDS if grace is None else grace, dry_run, prune)
    if json_:
        print_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    out.print(f"{verb} {result.removed:,} objects ({human_bytes(result.freed_bytes)}); kept {result.kept:,}; "
              f"{'would expire' if dry_run else 'expired'} {result.reflog_expired:,} reflog entries")
