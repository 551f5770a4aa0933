"""Results of bench/run.py: what was measured, and its Markdown and JSON renderings.

Why both: the Markdown is for people (one table per metric, tools as columns, as the issue
asks), the JSON keeps every number and every tool's own words (diff summaries, skip reasons)
for whoever wants to re-plot or check a claim.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(slots=True)
class StepResult:
    """One version committed by one tool.

    Attributes:
        bytes_added: growth of the tool's storage during the commit (for v0: all of it).
        seconds: add+commit wall time; None when the tool had nothing to do.
        diff_seconds: the tool's diff from the previous version; None for v0.
    """

    step: str
    bytes_added: int
    storage_bytes: int
    seconds: float | None
    detail: str = ""
    diff_seconds: float | None = None
    diff_detail: str = ""


@dataclass(slots=True)
class ToolResult:
    """Everything measured for one tool; `skipped` or `error` say why something is missing."""

    name: str
    storage: str
    granularity: str
    checkout_means: str
    version: str = ""
    skipped: str | None = None
    error: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    checkout_shuffled_seconds: float | None = None
    checkout_resharded_seconds: float | None = None
    checkout_seconds: float | None = None
    checkout_verified: bool | None = None


@dataclass(slots=True)
class Corpus:
    """v0 as the tools received it."""

    rows: int
    parquet_bytes: int
    shards: int
    target_mb: float
    steps: list[str]


@dataclass(slots=True)
class Machine:
    """Where the numbers come from; load average matters on a shared machine."""

    cpu: str
    cores: int
    ram_bytes: int
    platform: str
    python: str
    load_at_start: tuple[float, float, float]
    load_at_end: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(slots=True)
class RunResult:
    """One run of bench/run.py."""

    date: str
    mode: str
    machine: Machine
    corpus: Corpus
    pyarrow_seconds: float  # baseline: pq.read_table + pq.write_table (zstd) of v0's shards
    wall_seconds: float = 0.0
    tools: list[ToolResult] = field(default_factory=list)


def read_machine() -> Machine:
    """CPU model, cores and RAM from /proc (Linux), with neutral fallbacks elsewhere."""
    cpu, ram = platform.processor() or "unknown", 0
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    if meminfo.exists():
        total = [ln.split()[1] for ln in meminfo.read_text().splitlines()
                 if ln.startswith("MemTotal:")]
        ram = int(total[0]) * 1024 if total else 0
    return Machine(cpu, os.cpu_count() or 0, ram, platform.platform(), platform.python_version(),
                   os.getloadavg())


def human_bytes(n: int) -> str:
    """1.2 GB / 34.5 MB / 6.7 kB / 89 B (decimal units, like the issue's MB)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def seconds_cell(seconds: float | None) -> str:
    """A time cell; None means the tool had nothing to do."""
    return "no-op" if seconds is None else f"{seconds:.2f}"


def dash_or_seconds(seconds: float | None) -> str:
    """A time cell where None means not measured (the tool was skipped or failed)."""
    return "—" if seconds is None else f"{seconds:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, first column left-aligned, the rest right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _per_step(run: RunResult, tools: list[ToolResult], cell: str) -> list[list[str]]:
    """Rows of step x tool for one StepResult attribute ('bytes', 'seconds' or 'diff')."""
    rows = []
    for index, step in enumerate(run.corpus.steps):
        row = [step]
        for tool in tools:
            if index >= len(tool.steps):
                row.append("—")
                continue
            result = tool.steps[index]
            if cell == "bytes":
                share = result.bytes_added / run.corpus.parquet_bytes
                row.append(f"{human_bytes(result.bytes_added)} ({share:.1%})")
            elif cell == "seconds":
                row.append(seconds_cell(result.seconds))
            else:
                row.append("" if index == 0 else seconds_cell(result.diff_seconds))
        rows.append(row)
    return rows


def render_markdown(run: RunResult) -> str:
    """The human report: setup, then one table per metric with tools as columns."""
    measured = [t for t in run.tools if t.steps]
    names = ["step", *(t.name for t in measured)]
    m, c = run.machine, run.corpus
    lines = [f"# corpusgit and the tools users would pick instead — {run.date}", "",
             f"`python bench/run.py{'' if run.mode == 'full' else ' --' + run.mode}` "
             f"({run.mode} run, {run.wall_seconds / 60:.0f} min). v0: {c.rows:,} rows of real "
             f"text (`corpusgit.demo`), {human_bytes(c.parquet_bytes)} of Parquet in "
             f"{c.shards} shards. Each step rewrites the shards as a pipeline would and every "
             "tool commits the result; see [bench/README.md](../README.md#runpy).", "",
             f"Machine: {m.cpu}, {m.cores} cores, {human_bytes(m.ram_bytes)} RAM, {m.platform}, "
             f"Python {m.python}. Load average at start {m.load_at_start[0]:.1f}, at end "
             f"{m.load_at_end[0]:.1f} (the machine was shared; times are noisy, bytes are not).",
             "", "## Tools", ""]
    tool_rows = [[t.name, t.version or "—", t.storage, t.granularity, t.checkout_means,
                  f"skipped: {t.skipped}" if t.skipped else
                  (f"failed: {t.error}" if t.error else "measured")] for t in run.tools]
    lines += _table(["tool", "version", "storage measured", "diff granularity",
                     "check out v0 means", "status"], tool_rows)
    lines += ["## Bytes added to the tool's storage", "",
              "v0's row is the whole store after the first commit; other rows are the growth "
              "during that step's commit. In parentheses: share of v0's Parquet bytes.", ""]
    total = ["total after all steps"] + [
        f"{human_bytes(t.steps[-1].storage_bytes)}" if t.steps else "—" for t in measured]
    lines += _table(names, _per_step(run, measured, "bytes") + [total])
    lines += ["## Wall time of add+commit (s)", ""]
    ratio = ["v0 throughput vs pyarrow read+write"] + [
        f"{run.pyarrow_seconds / t.steps[0].seconds:.2f}x"
        if t.steps and t.steps[0].seconds else "—" for t in measured]
    lines += [f"Baseline: plain pyarrow `read_table` + `write_table` (zstd) of v0's shards took "
              f"{run.pyarrow_seconds:.2f} s. Command-line tools (cgit, dvc, git) include "
              "process start-up; Python-API tools (Oxen, Delta, Lance) are timed inside one "
              "long-lived interpreter.", ""]
    lines += _table(names, _per_step(run, measured, "seconds") + [ratio])
    lines += ["## Diff between consecutive versions (s)", ""]
    granularity = ["granularity"] + [t.granularity for t in measured]
    lines += _table(names, _per_step(run, measured, "diff") + [granularity])
    lines += ["## Check out v0 again (s)", "",
              "First the shuffled version is checked out from the final state, then the "
              "re-sharded one (every file differs each time), then v0 from there; verified = v0's rows came back exactly (SHA-256 "
              "over all rows sorted by id).", ""]
    lines += _table(["", *(t.name for t in measured)], [
        ["shuffled version, from the final state"] + [
            dash_or_seconds(t.checkout_shuffled_seconds) for t in measured],
        ["re-sharded version, from the shuffled one"] + [
            dash_or_seconds(t.checkout_resharded_seconds) for t in measured],
        ["**v0, from the re-sharded version**"] + [dash_or_seconds(t.checkout_seconds) for t in measured],
        ["verified"] + ["yes" if t.checkout_verified else
                        ("—" if t.checkout_verified is None else "NO") for t in measured]])
    lines += ["## What each tool reported", "",
              "Per step: the commit's note, if any, then the tool's own diff summary.", ""]
    for tool in measured:
        lines.append(f"- **{tool.name}**: " + "; ".join(
            f"{s.step}: " + " / ".join(x for x in (s.detail, s.diff_detail) if x)
            for s in tool.steps[1:]))
    return "\n".join(lines) + "\n"


def write_results(run: RunResult, out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write <stem>.md and <stem>.json into out_dir; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / f"{stem}.md", out_dir / f"{stem}.json"
    md.write_text(render_markdown(run))
    js.write_text(json.dumps(asdict(run), indent=2) + "\n")
    return md, js
