"""run, lineage, why, rerun: operator steps and the lineage they record."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.text import Text
from rich.tree import Tree

from corpusgit.cli import app
from corpusgit.cli.render import dataset_label, err, human_count, out, print_json
from corpusgit.errors import BadInput
from corpusgit.progress import NULL_PROGRESS, Progress, Task
from corpusgit.repo import Repo

if TYPE_CHECKING:
    from corpusgit.lineage.graph import Node
    from corpusgit.lineage.run import StepResult
    from corpusgit.lineage.why import Event

SHORT = 12  # id characters shown, as in 'cgit log --oneline'


class _RateTask:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._id, amount)
        speed = self._progress.tasks[0].speed
        self._progress.update(self._id, rate=f"{speed:,.0f} rows/s" if speed else "")


class _RowsProgress:
    """A progress bar that shows rows per second (operators are judged by throughput)."""

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Task]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn()]
        with RichProgress(*columns, console=err, transient=True) as progress:
            yield _RateTask(progress, progress.add_task(description, total=total, rate=""))


def _progress(quiet: bool) -> Progress:
    return NULL_PROGRESS if quiet or not err.is_terminal else _RowsProgress()


@app.command()
def run(
    target: Optional[str] = typer.Argument(None, help="Operator name, or a pipeline .yaml file."),
    input_: Optional[str] = typer.Option(None, "--input", "-i", help="Input table, or a dataset's directory (every table in it): PATH (staged) or PATH@REV."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Output table path; for a dataset, the output directory (written and staged)."),
    config_file: Optional[str] = typer.Option(None, "--config", help="YAML file of config keys."),
    settings: Optional[list[str]] = typer.Option(None, "-c", help="Config KEY=VALUE (repeatable; overrides --config)."),
    commit: bool = typer.Option(False, "--commit", help="Commit the output(s), linking the lineage records."),
    message: Optional[str] = typer.Option(None, "--message", "-m", help="Commit message (with --commit)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run even if an identical earlier run exists."),
    list_: bool = typer.Option(False, "--list", help="List the operators available here."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run an operator (or a pipeline file) on a table or a dataset; stage the output with its lineage."""
    from corpusgit.lineage.pipeline import Pipeline, is_pipeline_file, load_pipeline, run_pipeline
    from corpusgit.lineage.run import Step, commit_runs
    from corpusgit.ops.config import load_config_file, parse_assignments

    repo = Repo.open()
    if list_:
        _list_operators(repo, json_)
        return
    if target is None:
        raise BadInput("name an operator or a pipeline file", hint="'cgit run --list' shows the operators")
    if is_pipeline_file(target):
        if input_ or output or config_file or settings:
            raise BadInput("a pipeline file sets inputs, outputs and configs itself", hint=f"edit {target}, or run one operator at a time")
        pipeline = load_pipeline(repo.root / repo.relpath(target))
    else:
        if not input_ or not output:
            raise BadInput(f"'cgit run {target}' needs --input and --output", hint=f"e.g. cgit run {target} -i data/raw.parquet -o data/clean.parquet")
        config = load_config_file(config_file) if config_file else {}
        config.update(parse_assignments(settings or []))
        pipeline = Pipeline((Step(target, _repo_spec(repo, input_), _repo_output(repo, output), config),), None)
    if message is not None and not commit:
        raise BadInput("-m is the commit message for --commit", hint="add --commit to commit the output")
    results: list[StepResult] = []

    def report(number: int, result: StepResult) -> None:
        results.append(result)
        if not json_:
            _print_step(number, len(pipeline.steps), result)

    run_pipeline(repo, pipeline, _progress(quiet or json_), use_cache=not no_cache, on_step=report)
    commit_id = None
    if commit or pipeline.message:
        text = message or pipeline.message or _default_message(results)
        done = commit_runs(repo, text, [r.record_id for r in results])
        commit_id = done.id if done is not None else None
        if not json_ and done is None:
            out.print("nothing to commit: every output is already committed as it is")
        elif not json_ and done is not None:
            out.print(f"[{(done.branch or 'detached HEAD').removeprefix('refs/heads/')} {done.id[:SHORT]}] {done.commit.subject}  ({len(done.commit.lineage)} lineage record(s) linked)")
    if json_:
        print_json({"steps": [{"lineage": r.record_id, "cached": r.cached, "record": r.record.to_json()} for r in results], "commit": commit_id})


def _repo_spec(repo: Repo, spec: str) -> str:
    """PATH[@REV] with PATH made repo-relative (the user typed it relative to the cwd)."""
    path, sep, rev = spec.rpartition("@")
    return f"{repo.relpath(path)}@{rev}" if sep and path else repo.relpath(spec)


def _repo_output(repo: Repo, path: str) -> str:
    """The output path made repo-relative, keeping a trailing '/' (the user named a directory)."""
    rel = repo.relpath(path)
    return f"{rel}/" if path.endswith("/") and rel else rel


def _default_message(results: list[StepResult]) -> str:
    steps = ", ".join(r.step.operator for r in results)
    return f"run {steps}: {results[0].step.input} -> {results[-1].step.output}"


def _list_operators(repo: Repo, json_: bool) -> None:
    from corpusgit.ops.registry import find_operator, operator_names

    rows = []
    for name, source in sorted(operator_names(repo).items()):
        cls = find_operator(name, repo).cls
        rows.append({"name": name, "version": cls.version, "kind": cls.kind, "source": source, "description": cls.describe()})
    if json_:
        print_json(rows)
        return
    for row in rows:
        line = Text(f"{row['name']:<16}", style="bold")
        line.append(f" v{row['version']:<4} {row['kind']:<7} ")
        line.append(row["description"])
        if row["source"] != "builtin":
            line.append(f"  ({row['source']})", style="dim")
        out.print(line)


def _print_step(number: int, total: int, result: StepResult) -> None:
    from corpusgit.lineage.export import run_summary
    from corpusgit.lineage.graph import Run

    record = result.record
    step = f"[{number}/{total}] " if total > 1 else ""
    head = Text(f"{step}{record.operator.name} v{record.operator.version}: ", style="bold")
    if result.dataset:
        head.append(f"{dataset_label(result.step.input, len(record.inputs))} → {dataset_label(result.step.output, len(record.outputs))}")
    else:
        head.append(f"{result.step.input} → {result.step.output}")
    out.print(head)
    if result.cached:
        out.print(f"  cached: same operator, version, config and input as run {result.record_id[:SHORT]}; not run again", style="yellow")
        return
    stats = record.stats
    rate = f", {stats['rows_per_second']:,} rows/s" if stats.get("rows_per_second") else ""
    out.print(f"  {human_count(stats['rows_in'])} rows in, {human_count(stats['rows_out'])} out in {result.seconds:.2f} s{rate}")
    out.print(f"  {run_summary(Run(result.record_id, record, None))}")
    out.print(f"  lineage {result.record_id[:SHORT]}; output staged", style="dim")


@app.command()
def lineage(
    spec: str = typer.Argument(..., help="PATH (staged) or PATH@REV."),
    json_: bool = typer.Option(False, "--json", help="Print the graph as JSON."),
    dot: bool = typer.Option(False, "--dot", help="Print Graphviz DOT."),
    mermaid: bool = typer.Option(False, "--mermaid", help="Print a Mermaid flowchart."),
    openlineage: bool = typer.Option(False, "--openlineage", help="Print OpenLineage RunEvents (JSON list)."),
    namespace: str = typer.Option("cgit", "--namespace", help="OpenLineage namespace of jobs and datasets."),
) -> None:
    """Show the runs and tables upstream of a table, back to its raw sources."""
    from corpusgit.lineage.export import graph_json, to_dot, to_mermaid
    from corpusgit.lineage.graph import upstream
    from corpusgit.lineage.openlineage import run_events
    from corpusgit.lineage.tables import split_spec

    if sum((json_, dot, mermaid, openlineage)) > 1:
        raise BadInput("choose one of --json, --dot, --mermaid, --openlineage", hint="they are alternative output formats")
    repo = Repo.open()
    path, rev = split_spec(_repo_spec(repo, spec))
    root = upstream(repo, path, rev)
    if json_:
        print_json(graph_json(root))
    elif openlineage:
        print_json(run_events(root, namespace))
    elif dot or mermaid:
        typer.echo((to_dot if dot else to_mermaid)(root), nl=False)
    else:
        out.print(_tree(root))


def _table_text(group: list[Node]) -> Text:
    """One table version, or the shards of a dataset one run wrote (or that are sources) as one line."""
    ref = group[0].ref
    if len(group) == 1:
        text = Text(ref.path, style="bold")
        text.append(f"  {ref.table[:SHORT]}  {human_count(ref.rows)} rows", style="dim")
    else:
        text = Text(f"{posixpath.dirname(ref.path)}/", style="bold")
        text.append(f"  ({len(group):,} tables)  {human_count(sum(n.ref.rows for n in group))} rows", style="dim")
    if group[0].run is None:
        text.append("  source" if len(group) == 1 else "  sources", style="green")
        commits = {n.ref.commit for n in group}
        if len(commits) == 1 and ref.commit:
            text.append(f" @ {ref.commit[:SHORT]}", style="yellow")
    return text


def _tree(root: Node) -> Tree:
    from corpusgit.lineage.export import run_summary
    from corpusgit.lineage.graph import dataset_groups

    tree = Tree(_table_text([root]))
    stack: list[tuple[Node, Tree]] = [(root, tree)]
    expanded: set[str] = set()
    while stack:
        node, branch = stack.pop()
        if node.run is None or node.run.id in expanded:
            continue
        expanded.add(node.run.id)
        op = node.run.record.operator
        label = Text(f"{op.name} v{op.version}", style="cyan")
        label.append(f"  run {node.run.id[:SHORT]}", style="dim")
        label.append(f"  commit {node.run.commit[:SHORT]}" if node.run.commit else "  (staged)", style="yellow")
        label.append(f"  {run_summary(node.run)}")
        run_branch = branch.add(label)
        for group in dataset_groups(node.inputs):
            stack.append((group[0], run_branch.add(_table_text(group))))
    return tree


@app.command()
def why(
    spec: str = typer.Argument(..., help="PATH (staged) or PATH@REV."),
    row: str = typer.Option(..., "--row", "-r", help="Key value, _cgit_row (32 hex digits) or index:N."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show where a row came from and which runs kept, modified or dropped it."""
    from corpusgit.lineage.tables import split_spec
    from corpusgit.lineage.why import why as do_why

    repo = Repo.open()
    path, rev = split_spec(_repo_spec(repo, spec))
    report = do_why(repo, path, rev, row)
    if json_:
        print_json(report)
        return
    where = f"{path}@{rev}" if rev else path
    if report.present:
        out.print(Text(f"row {report.row} (index {report.index:,}) in {where}", style="bold"))
    else:
        out.print(Text(f"row {report.row} is not in {where}", style="bold"))
    for event in report.events:
        out.print(_event_line(event))


_EVENT_STYLE = {"source": "green", "created": "green", "kept": "", "modified": "yellow", "dropped": "red"}


def _event_line(event: Event) -> Text:
    line = Text("  ")
    line.append(f"{event.kind:<9}", style=_EVENT_STYLE.get(event.kind, ""))
    if event.kind == "source":
        line.append(f"{event.table.path}  table {event.table.table[:SHORT]}")
        line.append(f"  commit {event.commit[:SHORT]}" if event.commit else "  (staged)", style="yellow")
        return line
    line.append(f"{event.operator} v{event.version}  run {(event.run or '')[:SHORT]}")
    line.append(f"  commit {event.commit[:SHORT]}" if event.commit else "  (staged)", style="yellow")
    if event.kind == "dropped":
        line.append(f"  from {event.table.path}")
        line.append(f"  rule {event.rule or 'unnamed'}", style="red")
        if event.duplicate_of:
            line.append(f"  duplicate of {event.duplicate_of}")
            if event.duplicate_in and event.duplicate_in != event.table.path:
                line.append(f" in {event.duplicate_in}")
    else:
        line.append(f"  → {event.table.path}")
    if event.previous:
        line.append(f"  (was {event.previous})", style="dim")
    return line


@app.command()
def rerun(
    lineage_id: str = typer.Argument(..., help="Lineage record id (or a unique prefix)."),
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Re-execute a recorded run; exit 1 unless its output table ids come out identical."""
    from corpusgit.lineage.rerun import rerun as do_rerun

    result = do_rerun(Repo.open(), lineage_id, _progress(quiet or json_))
    outputs = result.record.outputs
    recorded = outputs[0]
    if json_:
        print_json({
            "lineage": result.record_id, "identical": result.identical, "recorded_table": recorded.table, "table": result.table,
            "recorded_tables": [o.table for o in outputs], "tables": list(result.tables),
            "effects_identical": result.effects_identical, "code_changed": result.code_changed, "version_changed": result.version_changed,
        })
    else:
        op = result.record.operator
        inputs = result.record.inputs
        source = inputs[0].path if len(inputs) == 1 else f"{len(inputs)} tables ({inputs[0].path}, ...)"
        out.print(f"re-ran {op.name} v{op.version} (run {result.record_id[:SHORT]}) on {source}: {human_count(result.rows)} rows in {result.seconds:.2f} s")
        if result.identical and len(outputs) == 1:
            out.print(f"identical: output table {result.table[:SHORT]} is the recorded {recorded.path} table", style="green")
        elif result.identical:
            out.print(f"identical: all {len(outputs)} output tables are the recorded ones", style="green")
        for i in result.differing:
            out.print(f"different: output table {result.tables[i][:SHORT]}, recorded {outputs[i].table[:SHORT]} ({outputs[i].path})", style="red")
        if not result.effects_identical:
            out.print("row effects differ from the recorded ones", style="red")
        if result.code_changed or result.version_changed:
            out.print("the operator's " + ("version" if result.version_changed else "code") + " changed since the recorded run", style="yellow")
    if not result.identical:
        raise typer.Exit(1)
