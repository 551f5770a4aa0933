"""diff."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.text import Text

from corpusgit.cli import app
from corpusgit.cli.render import human_count, out, print_json, progress_for
from corpusgit.repo import Repo

if TYPE_CHECKING:
    import pyarrow as pa

    from corpusgit.diff.datasets import DatasetDiff
    from corpusgit.diff.output import Samples
    from corpusgit.diff.tables import TableDiff
    from corpusgit.diff.trees import FileDiff

CELL_CHARS = 60  # long documents are cut in the middle of a rich table, not wrapped
_STATUS_STYLE = {"added": "green", "deleted": "red", "modified": "yellow"}


@app.command()
def diff(
    revs: Optional[list[str]] = typer.Argument(None, help="[A [B]]; then '--' and paths to restrict."),
    staged: bool = typer.Option(False, "--staged", "--cached", help="Index vs HEAD (or vs REV)."),
    stat: bool = typer.Option(False, "--stat", help="One line per dataset and per table."),
    rows: int = typer.Option(0, "--rows", "-r", help="Show up to N sample rows per change type."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the full row-level diff of one table to Parquet."),
    by_path: bool = typer.Option(
        False, "--by-path", help="Compare each table only with the old version of its path: rows moved between shards show as removed and added."
    ),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Row-, column- and schema-level changes between versions (cost follows the change).

    Shards of one directory with one schema are compared as one dataset: rows that moved
    between them (a re-shard, a shuffle) are counted as moved, not as removed and added.
    """
    from corpusgit.diff.api import diff as run_diff
    from corpusgit.diff.datasets import DatasetDiff, iter_tables
    from corpusgit.diff.output import sample_rows, write_diff
    from corpusgit.diff.tables import TableDiff
    from corpusgit.errors import BadInput

    repo = Repo.open()
    args = list(revs or [])
    paths: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, paths = args[:cut], args[cut + 1:]
    args, paths = _split_paths(repo, args, paths)
    with run_diff(repo, args, staged, paths or None, progress_for(quiet or json_), by_path) as diffs:
        if output is not None:
            tables = list(iter_tables(diffs))
            if len(tables) > 1:  # rows that only moved are no change: a re-sharded table is not a candidate
                tables = [t for t in tables if t.has_changes]
            if len(tables) != 1:
                raise BadInput(f"--output needs exactly one changed table, found {len(tables)}", hint="restrict with '-- PATH'")
            n = write_diff(repo.store, tables[0], output)
            out.print(f"wrote {n:,} changed rows of {tables[0].path} to {output}")
            return
        if json_:
            print_json([d.summary() for d in diffs])
            return
        if not diffs:
            out.print("no differences", style="dim")
            return
        for d in diffs:
            if isinstance(d, DatasetDiff):
                _render_dataset(repo, d, stat, rows)
                continue
            _render(d, stat)
            if rows and isinstance(d, TableDiff) and not stat:
                _render_samples(sample_rows(repo.store, d, rows))


def _render_dataset(repo: Repo, d: DatasetDiff, stat: bool, rows: int) -> None:
    """The dataset at a glance, then its tables: every changed one with ``--stat``, else those
    with more than moved rows (their details and samples as for a single table)."""
    from corpusgit.diff.output import sample_rows

    line = Text()
    line.append(f"{d.status:<9}", style=_STATUS_STYLE.get(d.status, ""))
    line.append(d.path, style="bold")
    counts = f"{d.moved:,} rows moved between files, {d.rows_added:,} added, {d.rows_removed:,} removed"
    if d.rows_modified or any(f.key for f in d.files):
        counts += f", {d.rows_modified:,} modified"
    line.append(f"  {d.files_old:,} files → {d.files_new:,} files, {counts}", style="dim")
    out.print(line)
    shown = d.files if stat else [f for f in d.files if f.has_changes]
    for f in shown:
        _render(f, stat, indent="  ")
        if rows and not stat:
            _render_samples(sample_rows(repo.store, f, rows))
    if len(shown) < len(d.files):
        out.print(f"  {len(d.files) - len(shown):,} more files changed only by rows moving in or out (--stat lists them)", style="dim")


def _split_paths(repo: Repo, args: list[str], paths: list[str]) -> tuple[list[str], list[str]]:
    """Without '--', trailing arguments that are existing paths (and not revisions) are paths."""
    from corpusgit.errors import RevisionNotFound
    from corpusgit.revparse import resolve_commit

    if paths:
        return args, paths
    revs: list[str] = []
    for i, arg in enumerate(args):
        try:
            resolve_commit(repo, arg)
            revs.append(arg)
        except RevisionNotFound:
            if _looks_like_path(repo, arg, revs):
                return revs, args[i:]
            raise
    return revs, []


def _looks_like_path(repo: Repo, arg: str, revs: list[str]) -> bool:
    """Typer swallows '--', so a path is recognised by existing somewhere: on disk, in the
    index, or in one of the revisions already named (a deleted file)."""
    from corpusgit.history import tree_of

    if (Path.cwd() / arg).exists():
        return True
    rel = repo.relpath(arg)
    known = set(repo.read_index().entries)
    for rev in revs or (["HEAD"] if repo.refs.head_commit() else []):
        known.update(tree_of(repo, rev))
    return any(p == rel or p.startswith(rel + "/") for p in known)


def _render(d: FileDiff, stat: bool, indent: str = "") -> None:
    from corpusgit.diff.tables import TableDiff

    line = Text(indent)
    line.append(f"{d.status:<9}", style=_STATUS_STYLE.get(d.status, ""))
    if isinstance(d, TableDiff) and d.old_path is not None:
        line.append(d.old_path, style="bold")
        line.append(" → ")
    line.append(d.path, style="bold")
    if isinstance(d, TableDiff):
        line.append(f"  +{human_count(d.rows_added)} -{human_count(d.rows_removed)} ~{human_count(d.rows_modified)} rows{_moves(d)}", style="dim")
        out.print(line)
        if stat:
            return
        for change in d.schema_changes:
            out.print(f"{indent}    schema: {change}", style="cyan")
        if d.cells_changed:
            cells = ", ".join(f"{c} {n:,}" for c, n in sorted(d.cells_changed.items(), key=lambda kv: -kv[1]))
            out.print(f"{indent}    cells changed: {cells}")
        return
    if d.kind == "kind-change":
        line.append(f"  ({getattr(d, 'old_kind')} → {getattr(d, 'new_kind')})", style="dim")
        out.print(line)
        return
    text = getattr(d, "text", None)
    line.append("  (binary changed)" if text is None else "", style="dim")
    out.print(line)
    if text and not stat:
        for diff_line in text.splitlines():
            style = "green" if diff_line.startswith("+") else "red" if diff_line.startswith("-") else ""
            out.print(Text("    " + diff_line, style=style))


def _moves(d: TableDiff) -> str:
    if d.old_path is not None:
        return " (moved and modified)"
    parts = [f"{n:,} moved {way}" for n, way in ((d.moved_in, "in"), (d.moved_out, "out")) if n]
    return ", " + ", ".join(parts) if parts else ""


def _render_samples(s: Samples) -> None:
    for title, table, style in (("added", s.added, "green"), ("removed", s.removed, "red")):
        if table is not None:
            out.print(_rows_table(title, table, style))
    if s.modified_old is not None and s.modified_new is not None:
        t = Table(title="modified (old → new)", title_justify="left")
        for name in s.modified_new.schema.names:
            t.add_column(name, overflow="ellipsis", max_width=CELL_CHARS)
        old_rows, new_rows = s.modified_old.to_pylist(), s.modified_new.to_pylist()
        for i, (a, b) in enumerate(zip(old_rows, new_rows)):
            cells = []
            for name in s.modified_new.schema.names:
                if name in s.changed and s.changed[name][i]:
                    cell = Text(_cut(a.get(name)), style="red")
                    cell.append(" → ")
                    cell.append(_cut(b.get(name)), style="green")
                    cells.append(cell)
                else:
                    cells.append(Text(_cut(b.get(name))))
            t.add_row(*cells)
        out.print(t)


def _rows_table(title: str, table: pa.Table, style: str) -> Table:
    t = Table(title=title, title_justify="left", title_style=style)
    for name in table.schema.names:
        t.add_column(name, overflow="ellipsis", max_width=CELL_CHARS)
    for row in table.to_pylist():
        t.add_row(*(_cut(v) for v in row.values()))
    return t


def _cut(value: object) -> str:
    """Whitespace-collapsed text, shortened in the middle so both ends stay visible."""
    text = "∅" if value is None else " ".join(str(value).split())
    if len(text) <= CELL_CHARS:
        return text
    half = (CELL_CHARS - 1) // 2
    return text[:half] + "…" + text[-half:]
