"""check, stats; and the quality-report rendering ``commit`` and ``merge`` share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from corpusgit.cli import app
from corpusgit.cli.render import err, human_bytes, human_count, out, print_json, warn

if TYPE_CHECKING:
    from corpusgit.quality.report import Report
    from corpusgit.quality.api import Measure
    from corpusgit.stats import CorpusStats, Stats

STATUS_STYLE = {"pass": "green", "fail": "bold red", "error": "bold red", "warn": "yellow", "skip": "dim"}
BAR_WIDTH = 40  # histogram bars: readable in an 80-column terminal next to labels and counts
ID_CHARS = 16  # _cgit_row digits shown: unique in practice, short enough for a table cell


@contextmanager
def showing_quality_reports(console: Console = err) -> Iterator[None]:
    """Render a blocked run's results table before the CLI's one-line error (for ``commit`` and
    ``merge``: ``with showing_quality_reports(): merge(...)``)."""
    from corpusgit.quality.report import ChecksFailed

    try:
        yield
    except ChecksFailed as exc:
        render_report(exc.report, console)
        raise


def render_report(report: Report, console: Console = out, only_problems: bool = False) -> None:
    """The results table (check, status, metric vs threshold, details), then a few offending
    rows per failed check (``_cgit_row``/key and an excerpt), then the hints."""
    console.print(f"{report.stage} checks: {report.summary()}", style="bold")
    results = [r for r in report.results if not only_problems or r.status != "pass"]
    if not results:
        return
    table = Table(show_lines=False, title_justify="left")
    for name in ("table", "check", "status", "metric", "threshold", "details"):
        table.add_column(name, overflow="fold")
    for r in results:
        metrics = "\n".join(f"{m.name} = {_number(m.value)}" for m in r.measures) or "-"
        limits = "\n".join(_limit(m) for m in r.measures) or "-"
        status = Text(r.status + (" (required)" if r.required else ""), style=STATUS_STYLE.get(r.status, ""))
        table.add_row(r.path, r.check, status, metrics, limits, r.message)
    console.print(table)
    for r in results:
        if r.samples:
            rows = Table(title=f"{r.check} on {r.path}: {r.offending:,} offending row(s), first {len(r.samples)}", title_justify="left")
            rows.add_column("_cgit_row", no_wrap=True)
            if any(s.key for s in r.samples):
                rows.add_column("key")
            rows.add_column("excerpt", overflow="fold")
            for s in r.samples:
                cells = [s.row_id[:ID_CHARS]] + ([s.key or ""] if any(x.key for x in r.samples) else []) + [s.excerpt]
                rows.add_row(*cells)
            console.print(rows)
    for r in results:
        if r.hint and r.status in ("fail", "warn", "error"):
            console.print(f"hint ({r.check}): {r.hint}", style="dim")


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


def _limit(m: Measure) -> str:
    if m.limit is None:
        return "-"
    return f"{'≤' if m.op == '<=' else '≥'} {_number(m.limit)}"


@app.command()
def check(
    files: Optional[list[Path]] = typer.Argument(None, help="Parquet/JSONL files to check as they are on disk (default: the staged tables)."),
    rev: Optional[str] = typer.Option(None, "--rev", help="Check the tables REV changed vs its first parent."),
    stage: str = typer.Option("pre-commit", "--stage", help="Which hooks to run: pre-commit or pre-merge."),
    target: Optional[str] = typer.Option(None, "--target", help="With --stage pre-merge: the branch merged into (adds its required checks)."),
    only: Optional[list[str]] = typer.Option(None, "--check", "-c", help="Run only this check id (a built-in name works unconfigured). Repeatable."),
    overrides: Optional[list[str]] = typer.Option(None, "--set", "-s", help="Override a parameter: ID.KEY=VALUE (TOML value). Repeatable."),
    config: Optional[Path] = typer.Option(None, "--config", help="The cgit.toml to use with FILES (default: the nearest one upwards)."),
    json_: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run quality checks now: on the staged tables, a commit, or plain files (pre-commit framework)."""
    from corpusgit.errors import BadInput
    from corpusgit.quality.config import STAGES
    from corpusgit.quality.runner import check_paths, check_worktree

    if stage not in STAGES:
        raise BadInput(f"unknown stage {stage!r}", hint="use --stage pre-commit or --stage pre-merge")
    if files:
        if rev is not None:
            raise BadInput("--rev checks committed tables; it cannot be combined with FILES", hint="drop one of them")
        report = check_paths(files, Path.cwd(), config, stage, only or (), overrides or ())
    else:
        from corpusgit.repo import Repo

        report = check_worktree(Repo.open(), rev, stage, target, only or (), overrides or ())
    if report is None:
        if json_:
            print_json(None)
        else:
            warn("nothing to check: no configured check applies to these tables (configure [hooks.pre-commit.<id>] in cgit.toml, or pass --check)")
        return
    if json_:
        print_json(report.to_json())
    else:
        render_report(report)
    if report.blocked:
        from corpusgit.quality.report import ChecksFailed

        failed = ChecksFailed(report, blocking=False)
        if json_:
            failed.hint = "the report above lists the offending rows of each failed check; fix them, or change the thresholds in cgit.toml"
        raise failed


@app.command()
def stats(
    args: Optional[list[str]] = typer.Argument(None, help="[REV] [PATH], or A B [PATH] to compare two versions."),
    text_column: Optional[str] = typer.Option(None, "--text-column", help="Text column (default: text/content/document/body)."),
    source_column: Optional[str] = typer.Option(None, "--source-column", help="Source column (default: source/dataset/origin/subset)."),
    url_column: Optional[str] = typer.Option(None, "--url-column", help="URL column for top domains (default: url/uri/link)."),
    per_table: bool = typer.Option(False, "--tables", "-t", help="One line per table as well."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Corpus composition: rows, bytes, chars, tokens, languages, sources, lengths, domains."""
    from corpusgit.repo import Repo
    from corpusgit.stats import compare_stats

    result = compare_stats(Repo.open(), args or [], text_column, source_column, url_column)
    if json_:
        print_json(result[0].to_json() if len(result) == 1 else {"a": result[0].to_json(), "b": result[1].to_json()})
        return
    if len(result) == 1:
        _render_stats(result[0], per_table)
    else:
        _render_comparison(result[0], result[1])


def _title(s: CorpusStats) -> str:
    return f"{s.rev} ({s.commit[:12]})" + (f" {s.path}" if s.path else "")


def _headline(t: Stats) -> str:
    from corpusgit.stats import BYTES_PER_TOKEN

    return (f"{human_count(t.rows)} rows · {human_bytes(t.bytes)} · {human_count(t.chars)} chars · "
            f"~{human_count(t.est_tokens)} tokens (est. {BYTES_PER_TOKEN:g} bytes/token) · {t.tables} table{'s' if t.tables != 1 else ''}")


def _render_stats(s: CorpusStats, per_table: bool) -> None:
    from corpusgit.stats import histogram

    t = s.total
    out.print(Text(f"stats of {_title(s)}", style="bold"))
    out.print(_headline(t))
    bins = histogram(t.length_bins)
    if bins:
        peak = max(n for _, _, n in bins) or 1
        hist = Table(title="length (chars per row)", title_justify="left", box=None, show_header=False, pad_edge=False)
        hist.add_column("range", justify="right", no_wrap=True)
        hist.add_column("bar", no_wrap=True)
        hist.add_column("rows", justify="right", no_wrap=True)
        for lo, hi, n in bins:
            hist.add_row(f"{_short(lo)}–{_short(hi)}" if hi else "empty", "█" * max(1 if n else 0, round(BAR_WIDTH * n / peak)), human_count(n))
        out.print(hist)
    for title, counts, unit in (("languages (sampled rows)", t.languages, "sampled"), ("sources", t.sources, "rows"), ("top domains", t.domains, "rows")):
        if counts:
            out.print(_mix_table(title, counts, unit))
    _no_language_note(t.chars)
    if per_table:
        tables = Table(title="tables", title_justify="left")
        for name in ("path", "rows", "bytes", "chars", "~tokens", "mean chars"):
            tables.add_column(name, justify="left" if name == "path" else "right", no_wrap=True)
        for path, st in s.per_table.items():
            tables.add_row(path, human_count(st.rows), human_bytes(st.bytes), human_count(st.chars), human_count(st.est_tokens), f"{st.mean_chars:,.0f}")
        out.print(tables)


def _no_language_note(chars: int) -> None:
    """Say why the language mix is missing rather than leave it out silently."""
    from corpusgit.detect.language import available

    if chars and not available():
        err.print("languages: not identified; pip install 'corpusgit[lang]' to show the language mix", style="dim")


def _mix_table(title: str, counts: dict[str, int], unit: str) -> Table:
    from corpusgit.stats import TOP

    total = sum(counts.values()) or 1
    table = Table(title=title, title_justify="left")
    table.add_column("name")
    table.add_column(unit, justify="right")
    table.add_column("share", justify="right")
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    for name, n in ranked[:TOP]:
        table.add_row(name, human_count(n), f"{n / total:.1%}")
    if len(ranked) > TOP:
        rest = sum(n for _, n in ranked[TOP:])
        table.add_row(f"({len(ranked) - TOP} more)", human_count(rest), f"{rest / total:.1%}")
    return table


def _render_comparison(a: CorpusStats, b: CorpusStats) -> None:
    out.print(Text(f"stats: {_title(a)}  vs  {_title(b)}", style="bold"))
    table = Table(title_justify="left")
    for name in ("", "A", "B", "change"):
        table.add_column(name, justify="left" if not name else "right", no_wrap=True)
    ta, tb = a.total, b.total
    for label, x, y, fmt in (
        ("tables", ta.tables, tb.tables, human_count), ("rows", ta.rows, tb.rows, human_count),
        ("bytes", ta.bytes, tb.bytes, human_bytes), ("chars", ta.chars, tb.chars, human_count),
        ("~tokens", ta.est_tokens, tb.est_tokens, human_count),
    ):
        table.add_row(label, fmt(x), fmt(y), _change(x, y))
    table.add_row("mean chars", f"{ta.mean_chars:,.0f}", f"{tb.mean_chars:,.0f}", _change(ta.mean_chars, tb.mean_chars))
    out.print(table)
    for title, ca, cb in (("languages (share of sampled rows)", ta.languages, tb.languages), ("sources (share of rows)", ta.sources, tb.sources),
                          ("top domains (share of rows)", ta.domains, tb.domains)):
        if ca or cb:
            out.print(_share_comparison(title, ca, cb))
    _no_language_note(ta.chars + tb.chars)


def _share_comparison(title: str, a: dict[str, int], b: dict[str, int]) -> Table:
    from corpusgit.stats import TOP

    sa, sb = sum(a.values()) or 1, sum(b.values()) or 1
    names = sorted(set(a) | set(b), key=lambda k: -(a.get(k, 0) / sa + b.get(k, 0) / sb))[:TOP]
    table = Table(title=title, title_justify="left")
    for name in ("name", "A", "B", "change"):
        table.add_column(name, justify="left" if name == "name" else "right", no_wrap=True)
    for name in names:
        x, y = a.get(name, 0) / sa, b.get(name, 0) / sb
        table.add_row(name, f"{x:.1%}", f"{y:.1%}", f"{(y - x) * 100:+.1f} pts")
    return table


def _change(x: float, y: float) -> str:
    if x == y:
        return "="
    if not x:
        return "new"
    return f"{(y - x) / x:+.1%}"


def _short(n: int) -> str:
    for unit, size in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size in (0, size - 1):
            return f"{(n + 1) // size if n % size else n // size}{unit}"
    return str(n)
