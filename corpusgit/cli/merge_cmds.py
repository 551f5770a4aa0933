"""merge, conflicts, resolve, revert, cherry-pick."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.text import Text

from corpusgit.cli import app
from corpusgit.cli.render import err, out, print_json, progress_for
from corpusgit.errors import MergeConflict
from corpusgit.repo import Repo

if TYPE_CHECKING:
    from corpusgit.merge.api import MergeOutcome
    from corpusgit.merge.resolve import ConflictView

VALUE_CHARS = 40  # conflicting values are shown side by side; long text is cut


@app.command()
def merge(
    rev: Optional[str] = typer.Argument(None, help="Branch, tag or commit to merge into HEAD."),
    strategy_option: Optional[str] = typer.Option(None, "-X", "--strategy-option", help="Settle conflicts automatically: ours or theirs."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help="Merge commit message."),
    allow_unrelated: bool = typer.Option(False, "--allow-unrelated-histories", help="Merge histories with no common commit."),
    no_ff: bool = typer.Option(False, "--no-ff", help="Create a merge commit even when a fast-forward is possible."),
    continue_: bool = typer.Option(False, "--continue", help="Commit the merge once every conflict is resolved."),
    abort: bool = typer.Option(False, "--abort", help="Give up and restore the pre-merge state."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip pre-merge quality checks (a branch's required checks still run)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Three-way merge: tables merge by rows (keyless) or cells (keyed), blobs as files."""
    from corpusgit.merge import api

    repo = Repo.open()
    from corpusgit.cli.quality_cmds import showing_quality_reports

    if continue_:
        with showing_quality_reports():
            oid = api.merge_continue(repo, no_verify)
        out.print(f"merge committed as {oid[:12]}")
        return
    if abort:
        oid = api.merge_abort(repo, progress_for(quiet))
        out.print(f"merge aborted; back at {oid[:12]}")
        return
    if rev is None:
        raise typer.BadParameter("name a branch or commit to merge (or pass --continue / --abort)")
    with showing_quality_reports():
        outcome = api.merge(repo, rev, strategy_option or "mark", allow_unrelated, message, no_ff, progress_for(quiet), no_verify)
    _report(outcome, rev)


@app.command()
def revert(
    rev: str = typer.Argument(..., help="Commit whose changes to undo."),
    strategy_option: Optional[str] = typer.Option(None, "-X", "--strategy-option", help="Settle conflicts automatically: ours or theirs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Undo a commit (e.g. a bad filter step) with a new commit, using three-way merge."""
    from corpusgit.merge import api

    _report(api.revert(Repo.open(), rev, strategy_option or "mark", progress_for(quiet)), rev)


@app.command("cherry-pick")
def cherry_pick(
    rev: str = typer.Argument(..., help="Commit whose changes to apply."),
    strategy_option: Optional[str] = typer.Option(None, "-X", "--strategy-option", help="Settle conflicts automatically: ours or theirs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Apply one commit's changes on top of HEAD."""
    from corpusgit.merge import api

    _report(api.cherry_pick(Repo.open(), rev, strategy_option or "mark", progress_for(quiet)), rev)


def _report(outcome: MergeOutcome, rev: str) -> None:
    if outcome.kind == "up-to-date":
        out.print("Already up to date.")
    elif outcome.kind == "fast-forward":
        out.print(f"Fast-forward to {rev} ({(outcome.commit or '')[:12]})")
    elif outcome.kind == "merged":
        out.print(f"Committed {(outcome.commit or '')[:12]}")
    else:
        t = Table(title="conflicts", title_justify="left")
        for col in ("path", "kind", "detail"):
            t.add_column(col)
        for path, c in sorted(outcome.conflicts.items()):
            t.add_row(path, c.kind, c.detail)
        err.print(t)
        raise MergeConflict(
            f"stopped with conflicts in {len(outcome.conflicts)} path(s)",
            hint="inspect with 'cgit conflicts', settle with 'cgit resolve <path> --ours|--theirs|--union|--from FILE', then 'cgit merge --continue' (or --abort)",
        )


@app.command()
def conflicts(
    path: Optional[str] = typer.Argument(None, help="Only this path."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the conflict rows (base/ours/theirs) of one table to Parquet, for editing."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List conflicting keys with base, ours and theirs values."""
    from corpusgit.merge.resolve import list_conflicts

    views = list_conflicts(Repo.open(), path)
    if output is not None:
        _export(views, output)
        return
    if json_:
        print_json([_view_json(v) for v in views])
        return
    for v in views:
        out.print(Text(f"{v.path}: {v.conflict.kind} conflict, {v.conflict.detail}", style="bold"))
        if v.rows is not None:
            out.print(_rows_table(v))


def _export(views: list[ConflictView], output: Path) -> None:
    import pyarrow.parquet as pq

    from corpusgit.errors import BadInput

    with_rows = [v for v in views if v.rows is not None]
    if len(with_rows) != 1:
        raise BadInput(f"--output needs exactly one table with row conflicts, found {len(with_rows)}", hint="name the path: cgit conflicts PATH --output FILE")
    pq.write_table(with_rows[0].rows, output)
    out.print(f"wrote {with_rows[0].rows.num_rows:,} rows to {output}; keep one row per key (or set _side = 'resolved'), then: cgit resolve {with_rows[0].path} --from {output}")  # type: ignore[union-attr]


def _groups(v: ConflictView) -> list[dict[str, object]]:
    """One entry per conflicting key: kind, columns and the three sides' rows."""
    assert v.rows is not None
    by_key: dict[str, dict[str, object]] = {}
    for row in v.rows.to_pylist():
        key = {k: row[k] for k in v.key}
        ident = repr(sorted(key.items()))
        entry = by_key.setdefault(ident, {"key": key, "kind": row["_conflict"], "columns": row["_columns"].split(",")})
        entry[str(row["_side"])] = {k: val for k, val in row.items() if not k.startswith("_")}
    return list(by_key.values())


def _view_json(v: ConflictView) -> dict[str, object]:
    c = v.conflict
    doc: dict[str, object] = {"path": v.path, "kind": c.kind, "detail": c.detail, "base": c.base, "ours": c.ours, "theirs": c.theirs, "count": c.count}
    if v.rows is not None:
        doc["rows"] = _groups(v)
    return doc


def _rows_table(v: ConflictView) -> Table:
    t = Table(show_lines=True)
    for col in (*v.key, "column", "kind", "base", "ours", "theirs"):
        t.add_column(col, overflow="ellipsis", max_width=VALUE_CHARS)
    for g in _groups(v):
        key = g["key"]
        assert isinstance(key, dict)
        columns = g["columns"]
        assert isinstance(columns, list)
        for col in columns:
            sides = [g.get(s) for s in ("base", "ours", "theirs")]
            values = [_cut(s.get(col) if isinstance(s, dict) else None, s is None) for s in sides]
            t.add_row(*(str(key[k]) for k in v.key), col, str(g["kind"]), *values)
    return t


def _cut(value: object, absent: bool) -> Text:
    if absent:
        return Text("(no row)", style="dim")
    text = "∅" if value is None else " ".join(str(value).split())
    return Text(text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…")


@app.command()
def resolve(
    path: str = typer.Argument(..., help="A conflicted path."),
    ours: bool = typer.Option(False, "--ours", help="Keep ours on every conflict of this path."),
    theirs: bool = typer.Option(False, "--theirs", help="Take theirs on every conflict of this path."),
    union: bool = typer.Option(False, "--union", help="Keep rows from both sides."),
    from_file: Optional[Path] = typer.Option(None, "--from", help="Rows edited from 'cgit conflicts --output'."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Settle a conflicted path."""
    from corpusgit.merge.resolve import resolve as do_resolve

    picked = [name for name, flag in (("ours", ours), ("theirs", theirs), ("union", union)) if flag]
    if len(picked) > 1:
        raise typer.BadParameter("choose one of --ours, --theirs, --union")
    what = do_resolve(Repo.open(), path, picked[0] if picked else None, from_file, progress_for(quiet))
    out.print(f"{path}: {what}")
