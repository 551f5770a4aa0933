"""commit, log, show."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.text import Text

from corpusgit.cli import app
from corpusgit.cli.render import dataset_label, err, human_bytes, human_count, out, print_json, warn
from corpusgit.cli.worktree_cmds import _change_line
from corpusgit.history import commit as do_commit, log as do_log
from corpusgit.objects import Commit
from corpusgit.repo import Repo

if TYPE_CHECKING:
    from corpusgit.quality.report import Report
    from corpusgit.show import BlobView, TableView

PREVIEW_CHARS = 80  # cell text shown in previews; corpus rows are often kilobytes long


@app.command()
def commit(
    message: str = typer.Option(..., "--message", "-m", help="What changed and why."),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Record a commit even if nothing changed."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip quality hooks (recorded in the commit)."),
    json_: bool = typer.Option(False, "--json", help="Print the new commit as JSON (as log --json does)."),
) -> None:
    """Record the staged state as a new commit."""
    from corpusgit.cli.quality_cmds import render_report, showing_quality_reports

    repo = Repo.open()
    with showing_quality_reports():
        result = do_commit(repo, message, allow_empty=allow_empty, no_verify=no_verify)
    if result.warning:
        warn(result.warning)
    if json_:
        print_json(_commit_json(result.id, result.commit) | {"branch": result.branch})
        return
    branch = result.branch[len("refs/heads/"):] if result.branch else "detached HEAD"
    out.print(f"[{branch} {result.id[:12]}] {result.commit.subject}")
    report = _report(repo, result.commit)
    if report is not None and not isinstance(report, str):
        if report.outcome == "warned":
            render_report(report, err, only_problems=True)
        else:
            out.print(f"hooks {report.summary()}", style="dim")


def _report(repo: Repo, c: Commit) -> Report | str | None:
    """The commit's quality report, a note when it cannot be read, or None when it has none."""
    from corpusgit.errors import CorpusGitError
    from corpusgit.quality.report import read_report

    if c.report is None:
        return None
    try:
        return read_report(repo.store, c.report, needed_by="commit's quality report")
    except CorpusGitError as exc:
        return exc.message


def _hooks_lines(repo: Repo, c: Commit) -> list[tuple[str, str]]:
    """``Hooks:`` lines for log/show: (text, style)."""
    if c.hooks == "skipped":
        lines = [("Hooks:  skipped (--no-verify)", "red")]
    elif c.hooks in ("passed", "warned"):
        lines = [(f"Hooks:  {c.hooks}", "yellow" if c.hooks == "warned" else "green")]
    else:
        return []
    report = _report(repo, c) if c.report else None
    if isinstance(report, str):
        lines.append((f"        report {c.report}: {report}", "red"))
    elif report is not None:
        lines[0] = (lines[0][0] + f": {report.summary().split(': ', 1)[1]} (report {c.report[:12] if c.report else ''})", lines[0][1])
        for r in report.results:
            if r.status != "pass":
                metric = "; ".join(f"{m.name} = {m.value:.4g}" + ("" if m.limit is None else f" (limit {m.op} {m.limit:g})") for m in r.measures if not m.ok)
                lines.append((f"        {r.status:5} {r.check} on {r.path}: {metric or r.message}", "yellow" if r.status == "warn" else "dim"))
    return lines


def _run_lines(repo: Repo, c: Commit) -> list[str]:
    """``Runs:`` lines for show: the operator runs this commit links (``cgit why`` follows them)."""
    from corpusgit.errors import CorpusGitError
    from corpusgit.lineage.record import read_record

    lines = []
    for n, record_id in enumerate(c.lineage):
        label = "Runs:   " if n == 0 else "        "
        try:
            record = read_record(repo.store, record_id, needed_by="commit's lineage")
        except CorpusGitError as exc:
            lines.append(f"{label}{record_id[:12]}: {exc.message}")
            continue
        inputs, outputs = _paths([t.path for t in record.inputs]), _paths([t.path for t in record.outputs])
        effects = ", ".join(f"{k} {human_count(int(record.stats.get(k, 0)))}" for k in ("dropped", "modified", "created") if record.stats.get(k))
        lines.append(f"{label}{record.operator.name} v{record.operator.version} ({record_id[:12]}): {inputs} → {outputs}" + (f"; {effects}" if effects else ""))
    return lines


def _paths(paths: list[str]) -> str:
    """A few paths by name; a dataset's many shards as its directory and a count."""
    if len(paths) <= 2:
        return ", ".join(paths) or "-"
    import posixpath

    return dataset_label(posixpath.commonpath(paths) or ".", len(paths))


def _when(c: Commit) -> str:
    tz = dt.timezone(dt.timedelta(minutes=c.tz_offset))
    return dt.datetime.fromtimestamp(c.time, tz).strftime("%a %b %d %H:%M:%S %Y %z")


def _commit_json(oid: str, c: Commit) -> dict[str, object]:
    doc = c.to_json()
    doc["id"] = oid
    doc.pop("type")
    return doc


def _rev_and_paths(repo: Repo, specs: list[str]) -> tuple[str, list[str]]:
    """``[REV] [PATH...]``: the first word is a revision unless it names a path in the work
    tree or in HEAD (paths win: the work tree is what users point at); the rest are paths."""
    from corpusgit.errors import CorpusGitError
    from corpusgit.revparse import resolve_commit

    if not specs:
        return "HEAD", []
    first, rest = specs[0], specs[1:]
    if not _names_path(repo, first):
        try:
            resolve_commit(repo, first)
            return first, [repo.relpath(p) for p in rest]
        except CorpusGitError:
            if not rest:
                raise
    return "HEAD", [repo.relpath(p) for p in specs]


def _names_path(repo: Repo, spec: str) -> bool:
    from pathlib import Path

    from corpusgit.errors import CorpusGitError
    from corpusgit.history import tree_of

    if Path(spec).exists():
        return True
    rel = repo.relpath(spec)
    try:
        return any(p == rel or p.startswith(rel + "/") for p in tree_of(repo, "HEAD"))
    except CorpusGitError:
        return False


@app.command()
def log(
    specs: Optional[list[str]] = typer.Argument(None, help="Where to start (default HEAD), then files or directories: only commits that changed them."),
    max_count: Optional[int] = typer.Option(None, "--max-count", "-n", help="Show at most N commits."),
    oneline: bool = typer.Option(False, "--oneline", help="One line per commit."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show history, newest first (with paths: the history of those tables or datasets)."""
    repo = Repo.open()
    rev, paths = _rev_and_paths(repo, specs or [])
    entries = list(do_log(repo, rev, max_count, paths))
    if json_:
        print_json([_commit_json(e.id, e.commit) for e in entries])
        return
    for e in entries:
        skipped = f" [hooks {e.commit.hooks}]" if e.commit.hooks in ("skipped", "warned") else ""
        if oneline:
            line = Text(e.id[:12], style="yellow")
            line.append(f" {e.commit.subject}{skipped}")
            out.print(line)
            continue
        out.print(Text(f"commit {e.id}", style="yellow"))
        if len(e.commit.parents) > 1:
            out.print("Merge: " + " ".join(p[:12] for p in e.commit.parents))
        out.print(f"Author: {e.commit.author.name} <{e.commit.author.email}>")
        out.print(f"Date:   {_when(e.commit)}")
        if e.commit.hooks == "skipped":
            out.print("Hooks:  skipped (--no-verify)", style="red")
        elif e.commit.hooks in ("passed", "warned"):
            out.print(f"Hooks:  {e.commit.hooks}", style="yellow" if e.commit.hooks == "warned" else "green")
        out.print("")
        for message_line in e.commit.message.rstrip().splitlines():
            out.print(f"    {message_line}")
        out.print("")


@app.command()
def show(
    spec: str = typer.Argument("HEAD", help="A revision, or REV:PATH for one file."),
    rows: int = typer.Option(5, "--rows", "-r", help="Rows to preview for a table."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a commit and its changes, or a table/file at a revision (no checkout needed)."""
    from corpusgit.show import TableView, show_commit, show_path

    repo = Repo.open()
    if ":" in spec:
        from corpusgit.revparse import split_path_spec

        rev, path = split_path_spec(spec)
        view = show_path(repo, rev, path, rows)
        if isinstance(view, TableView):
            _render_table(view, json_)
        else:
            _render_blob(view, json_)
        return
    cv = show_commit(repo, spec)
    if json_:
        doc = _commit_json(cv.id, cv.commit)
        doc["changes"] = cv.changes
        report = _report(repo, cv.commit)
        if report is not None:
            doc["quality_report"] = report if isinstance(report, str) else report.to_json()
        print_json(doc)
        return
    out.print(Text(f"commit {cv.id}", style="yellow"))
    out.print(f"Author: {cv.commit.author.name} <{cv.commit.author.email}>")
    out.print(f"Date:   {_when(cv.commit)}")
    for text, style in _hooks_lines(repo, cv.commit):
        out.print(text, style=style)
    for text in _run_lines(repo, cv.commit):
        out.print(text, style="cyan")
    out.print("")
    for line in cv.commit.message.rstrip().splitlines():
        out.print(f"    {line}")
    out.print("")
    for change in cv.changes:
        out.print(_change_line(change))


def _render_table(view: TableView, json_: bool) -> None:
    t = view.table
    if json_:
        print_json({
            "path": view.path, "rev": view.rev, "id": view.id, "rows": t.num_rows,
            "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in t.schema],
            "key": list(t.key), "segments": t.num_segments, "chunks": len(t.chunk_refs()),
            "logical_bytes": t.logical_bytes, "stored_bytes": view.stored_bytes,
            "head": view.head.to_pylist(),
        })
        return
    out.print(Text(f"{view.rev}:{view.path}", style="bold"))
    out.print(f"table {view.id}")
    out.print(f"{human_count(t.num_rows)} rows · {len(t.schema)} columns · {t.num_segments:,} segments in {len(t.chunk_refs()):,} chunks · "
              f"{human_bytes(t.logical_bytes)} logical, {human_bytes(view.stored_bytes)} in referenced chunks")
    if t.key:
        out.print(f"key: {', '.join(t.key)}")
    schema = Table(title="schema", show_lines=False, title_justify="left")
    schema.add_column("column")
    schema.add_column("type")
    schema.add_column("nullable")
    for f in t.schema:
        schema.add_row(f.name, str(f.type), "yes" if f.nullable else "no")
    out.print(schema)
    if view.head.num_rows:
        preview = Table(title=f"first {view.head.num_rows} rows", title_justify="left")
        for name in view.head.schema.names:
            preview.add_column(name, overflow="ellipsis", max_width=PREVIEW_CHARS)
        for row in view.head.to_pylist():
            preview.add_row(*(_cell(v) for v in row.values()))
        out.print(preview)


def _cell(value: object) -> str:
    text = "∅" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _render_blob(view: BlobView, json_: bool) -> None:
    if json_:
        print_json({"path": view.path, "rev": view.rev, "id": view.id, "size": view.size, "text": view.text})
        return
    if view.text is None:
        out.print(f"{view.rev}:{view.path}: blob {view.id[:12]}, {human_bytes(view.size)} (binary or too large to print)")
    else:
        out.print(view.text, end="")
