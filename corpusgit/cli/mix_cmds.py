"""mix create, name, show, list, diff, materialize, verify, locate.

Each command parses, calls one function of ``corpusgit.mix``, and renders; the mix modules
(numpy, pyarrow) are imported inside the commands so ``cgit --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from corpusgit.cli import app
from corpusgit.cli.render import err, human_bytes, human_count, out, print_json, progress_for, warn
from corpusgit.errors import BadInput
from corpusgit.repo import Repo

if TYPE_CHECKING:
    from corpusgit.mix.create import CreateResult

mix_app = typer.Typer(name="mix", help="Training mixes: one hash reproduces the exact sample sequence.", no_args_is_help=True)
app.add_typer(mix_app, name="mix")

EXCERPT_SHOWN = 100  # characters of text per row in the locate table; --json has the full excerpt


@mix_app.command("create")
def create(
    spec: Path = typer.Argument(..., help="The mix spec (YAML, or JSON if it ends in .json)."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Also name the mix (e.g. pretrain-v3); other commands accept the name."),
    force: bool = typer.Option(False, "--force", "-f", help="Move --name if it names another mix."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Resolve refs, plan the sample sequence and store it; prints the mix hash."""
    from corpusgit.mix.create import create_mix
    from corpusgit.mix.storage import check_mix_name, name_mix, stored_summary

    repo = Repo.open()
    if name is not None:
        check_mix_name(name)
    result = create_mix(repo, spec, progress_for(quiet or json_))
    previous = name_mix(repo, name, result.stored.id, force) if name is not None else None
    summary = stored_summary(result.stored)
    if json_:
        print_json({**summary, "name": name, "existed": result.existed, "moved": list(result.moved)})
        return
    _moved_warnings(result)
    verb = "mix exists" if result.existed else "created mix"
    named = f" named '{name}'" + (f" (moved from {previous[:12]})" if previous and previous != result.stored.id else "") if name else ""
    out.print(Text(f"{verb} {result.stored.id}{named}", style="yellow"))
    _plan_table(summary)


@mix_app.command("name")
def name_(
    name: Optional[str] = typer.Argument(None, help="The name (omit to list the names)."),
    mix: Optional[str] = typer.Argument(None, help="Mix to name (hash, prefix or another name)."),
    delete: bool = typer.Option(False, "--delete", "-d", help="Remove the name (the mix stays)."),
    force: bool = typer.Option(False, "--force", "-f", help="Move a name that names another mix."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Name a mix, move or delete a name, or list the names (names travel with push --mixes)."""
    from corpusgit.mix.storage import delete_mix_name, mix_names, name_mix, resolve_mix_id

    repo = Repo.open()
    if name is None:
        names = mix_names(repo)
        if json_:
            print_json([{"name": n, "mix": i} for n, i in names.items()])
            return
        for n, i in names.items():
            out.print(Text(n).append(f"  {i[:12]}", style="dim"))
        return
    if delete:
        old = delete_mix_name(repo, name)
        out.print(f"Deleted mix name {name} (was {old[:12]})")
        return
    if mix is None:
        raise BadInput(f"which mix should '{name}' name?", hint=f"cgit mix name {name} MIX (a hash, prefix or name)")
    mix_id = resolve_mix_id(repo, mix)
    name_mix(repo, name, mix_id, force)
    out.print(f"Named mix {mix_id[:12]} '{name}'")


def _moved_warnings(result: CreateResult) -> None:
    for m in result.moved:
        warn(f"source '{m.source}': ref '{m.ref}' moved from {m.old_commit[:12]} to {m.new_commit[:12]} since mix {m.old_mix[:12]}, so this is a different mix")


def _plan_table(summary: dict[str, Any]) -> None:
    unit = summary["budget"]["unit"]
    t = Table(title=f"planned: {summary['samples']:,} samples for a budget of {summary['budget']['amount']:,} {unit}", title_justify="left")
    t.add_column("source", no_wrap=True)
    t.add_column("commit", no_wrap=True)
    for col in ("share", "eligible rows", "samples", "unique rows", "tokens", "bytes", "epochs"):
        t.add_column(col, justify="right", no_wrap=True)
    for s in summary["sources"]:
        t.add_row(s["name"], s["commit"][:12], f"{100 * s['share']:.1f}%", human_count(s["eligible_rows"]), human_count(s["samples"]),
                  human_count(s["unique_rows"]), human_count(s["tokens"]), human_bytes(s["bytes"]), f"{s['epochs']:.3f}")
    out.print(t)


@mix_app.command("show")
def show(
    mix: str = typer.Argument(..., help="Mix name, hash, or unique hash prefix."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a mix: settings, sources at their commits, planned counts."""
    from corpusgit.mix.storage import load_mix, mix_names, stored_summary

    repo = Repo.open()
    summary = stored_summary(load_mix(repo, mix))
    summary["names"] = [n for n, i in mix_names(repo).items() if i == summary["id"]]
    if json_:
        print_json(summary)
        return
    out.print(Text(f"mix {summary['id']}", style="yellow").append(f"  ({', '.join(summary['names'])})" if summary["names"] else "", style="bold"))
    out.print(f"created {_when(summary['created'])} · seed {summary['seed']} · tokens counted as {summary['count']['rule']}"
              + (f" ({summary['count']['file']} {summary['count']['sha256'][:12]})" if "file" in summary["count"] else ""))
    out.print(f"columns: {', '.join(summary['columns'])} · {summary['shard_rows']:,} samples per materialised shard")
    for s in summary["sources"]:
        where = f"{s['path']} at {s['ref']} ({s['commit'][:12]}, {s['tables']} table{'s' if s['tables'] != 1 else ''})"
        extra = f" · filter {s['filter']}" if s["filter"] else ""
        out.print(f"  {s['name']}: {where} · weight {s['weight']:g} · max_epochs {s['max_epochs']:g}{extra}")
    _plan_table(summary)


def _when(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


@mix_app.command("list")
def list_(json_: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the mixes in this repository, newest first."""
    from corpusgit.mix.storage import list_mix_ids, load_mix, mix_names, stored_summary

    repo = Repo.open()
    names = mix_names(repo)
    summaries = sorted((stored_summary(load_mix(repo, i)) for i in list_mix_ids(repo)), key=lambda s: (-s["created"], s["id"]))
    for s in summaries:
        s["names"] = [n for n, i in names.items() if i == s["id"]]
    if json_:
        print_json(summaries)
        return
    if not summaries:
        err.print("no mixes yet; 'cgit mix create spec.yaml' makes one")
        return
    t = Table(title_justify="left")
    t.add_column("mix", no_wrap=True)
    t.add_column("names", overflow="fold")
    t.add_column("created", no_wrap=True)
    t.add_column("budget", justify="right", no_wrap=True)
    t.add_column("samples", justify="right", no_wrap=True)
    t.add_column("sources", overflow="ellipsis", max_width=60)
    for s in summaries:
        t.add_row(s["id"][:12], ", ".join(s["names"]), _when(s["created"]), f"{s['budget']['amount']:,} {s['budget']['unit']}", human_count(s["samples"]),
                  ", ".join(f"{x['name']} {100 * x['share']:.0f}%" for x in s["sources"]))
    out.print(t)


@mix_app.command("diff")
def diff(
    a: str = typer.Argument(..., help="First mix (name or hash)."),
    b: str = typer.Argument(..., help="Second mix (name or hash)."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Compare two mixes: settings, per-source counts, and overlap of selected rows."""
    from corpusgit.mix.diff import diff_mixes

    d = diff_mixes(Repo.open(), a, b, progress_for(quiet or json_))
    if json_:
        print_json(d)
        return
    out.print(Text(f"mix {d.a[:12]} → {d.b[:12]}", style="yellow"))
    for key, (va, vb) in d.settings.items():
        out.print(f"  {key}: {va} → {vb}")
    t = Table(title_justify="left")
    t.add_column("source", no_wrap=True)
    t.add_column("commit", no_wrap=True)
    for col in ("share", "samples", "unique rows", "overlap"):
        t.add_column(col, justify="right", no_wrap=True)
    for s in d.sources:
        t.add_row(s.name, _pair(s.commit_a and s.commit_a[:12], s.commit_b and s.commit_b[:12]),
                  _pair(_pct(s.share_a), _pct(s.share_b)), _pair(human_count(s.samples_a), human_count(s.samples_b)),
                  _pair(human_count(s.unique_a), human_count(s.unique_b)), human_count(s.overlap))
    out.print(t)
    out.print(f"distinct rows: {d.unique_a:,} → {d.unique_b:,}; in both: {d.overlap:,}")


def _pct(x: float | None) -> str | None:
    return None if x is None else f"{100 * x:.1f}%"


def _pair(a: str | None, b: str | None) -> str:
    return (a or "-") if a == b else f"{a or '-'} → {b or '-'}"


@mix_app.command("materialize")
def materialize(
    mix: str = typer.Argument(..., help="Mix name, hash, or unique hash prefix."),
    output: Path = typer.Option(..., "--output", "-o", help="New (or empty) directory for the shards and manifest."),
    file_format: str = typer.Option("parquet", "--format", "-f", help="parquet or jsonl."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Write the mix as numbered shards plus manifest.json (hash, row digest, checksums)."""
    from corpusgit.mix.materialize import materialize as do_materialize

    result = do_materialize(Repo.open(), mix, output, file_format, progress_for(quiet or json_))
    if json_:
        print_json({"mix": result.mix, "directory": str(result.directory), "format": result.file_format, "samples": result.samples,
                    "rows_digest": result.rows_digest, "shards": result.shards})
        return
    out.print(f"wrote {result.samples:,} samples of mix {result.mix[:12]} in {len(result.shards)} {result.file_format} shard(s) to {result.directory}")
    out.print(f"rows digest {result.rows_digest}", style="dim")


@mix_app.command("verify")
def verify(
    mix: str = typer.Argument(..., help="Mix name, hash, or unique hash prefix."),
    directory: Path = typer.Argument(..., help="A directory written by 'cgit mix materialize'."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Check that a directory holds exactly that mix (every sample re-derived and compared)."""
    from corpusgit.mix.verify import verify as do_verify

    report = do_verify(Repo.open(), mix, directory, progress_for(quiet or json_))
    if json_:
        print_json({"ok": report.ok, "mix": report.mix, "directory": report.directory, "shards_checked": report.shards_checked,
                    "samples_checked": report.samples_checked, "problems": report.problems})
    else:
        for p in report.problems:
            err.print(f"error: {p}", style="red")
        verdict = "OK: exactly mix" if report.ok else f"FAILED: {len(report.problems)} problem(s); not exactly mix"
        out.print(f"{verdict} {report.mix[:12]} ({report.shards_checked} shards, {report.samples_checked:,} samples checked)")
    if not report.ok:
        raise typer.Exit(1)


@mix_app.command("locate")
def locate(
    mix: str = typer.Argument(..., help="Mix name, hash, or unique hash prefix."),
    index: Optional[int] = typer.Option(None, "--index", "-i", help="Sample index (from 0)."),
    step: Optional[int] = typer.Option(None, "--step", "-s", help="Training step (from 0); needs --batch-size."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="Samples per rank per step."),
    world_size: int = typer.Option(1, "--world-size", "-w", help="Ranks reading shard(rank, world_size)."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the documents at a sample index or training step: source, path, commit, row, text."""
    import numpy as np

    from corpusgit.mix.locate import locate as do_locate, step_indices

    if (index is None) == (step is None):
        raise BadInput("give either --index N or --step S --batch-size B", hint="for example: cgit mix locate HASH --step 1200 --batch-size 8 --world-size 64")
    if step is not None and batch_size is None:
        raise BadInput("--step needs --batch-size", hint="the per-rank batch size the training run used")
    indices = np.array([index], dtype=np.int64) if index is not None else step_indices(step or 0, batch_size or 0, world_size)
    found = do_locate(Repo.open(), mix, indices, world_size)
    if json_:
        print_json(found)
        return
    t = Table(title_justify="left")
    for col in ("index", "rank", "source", "path", "commit", "row", "epoch", "id"):
        t.add_column(col, no_wrap=True, justify="right" if col in ("index", "rank", "row", "epoch") else "left")
    t.add_column("text", overflow="ellipsis", no_wrap=True, max_width=EXCERPT_SHOWN)
    for f in found:
        ident = ", ".join(f"{k}={v}" for k, v in f.key.items()) if f.key else f.row_id
        text = " ".join((f.excerpt or "∅").split())
        t.add_row(str(f.index), str(f.rank), f.source, f.path, f.commit[:12], str(f.row), str(f.epoch), ident, text[:EXCERPT_SHOWN])
    out.print(t)
