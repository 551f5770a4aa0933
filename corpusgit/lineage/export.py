"""The upstream graph as data (JSON), Graphviz DOT and Mermaid: tables and runs are nodes,
edges go from input table to run to output table (data flows downwards).

JSON lists every table version and every run once. Diagrams draw the shards of a dataset that
one run wrote (or that are sources of one directory), read by the same runs, as one box
(``data/web/`` with its table and row counts), so a run over 100 shards stays readable.
"""

from __future__ import annotations

import posixpath
from typing import Any

from corpusgit.lineage.graph import Node, Run, dataset_groups, iter_distinct_runs, iter_nodes

SHORT = 12  # id characters shown in diagrams, as in 'cgit log --oneline'


def graph_json(root: Node) -> dict[str, Any]:
    """{"target", "tables", "runs"}: every table version and run above ``root``."""
    tables = [
        {**node.ref.to_json(), "source": node.run is None, "produced_by": node.run.id if node.run else None}
        for node in iter_nodes(root)
    ]
    runs = [_run_json(run) for run, _, _ in iter_distinct_runs(root)]
    return {"target": root.ref.to_json(), "tables": tables, "runs": runs}


def _run_json(run: Run) -> dict[str, Any]:
    record = run.record
    op = record.operator
    return {
        "id": run.id,
        "commit": run.commit,
        "operator": {"name": op.name, "version": op.version, "kind": op.kind, "code_hash": op.code_hash, "source": op.source},
        "config": record.config,
        "config_hash": record.config_hash,
        "inputs": [t.to_json() for t in record.inputs],
        "outputs": [t.to_json() for t in record.outputs],
        "effects": record.effects,
        "stats": record.stats,
        "environment": record.environment,
        "started": record.started,
        "ended": record.ended,
    }


def run_summary(run: Run) -> str:
    """One line of what a run did: 'dropped 120 (too_short 100, dup 20), modified 3'."""
    stats = run.record.stats
    parts = []
    if stats.get("dropped"):
        rules = ", ".join(f"{rule} {count:,}" for rule, count in stats.get("dropped_by_rule", {}).items())
        parts.append(f"dropped {stats['dropped']:,}" + (f" ({rules})" if rules else ""))
    for kind in ("modified", "created"):
        if stats.get(kind):
            parts.append(f"{kind} {stats[kind]:,}")
    counts = stats.get("operator", {})
    if counts:
        parts.append(", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return "; ".join(parts) or "no row changed"


def _label(group: list[Node]) -> str:
    if len(group) == 1:
        ref = group[0].ref
        return f"{ref.path}\\n{ref.table[:SHORT]} ({ref.rows:,} rows)"
    directory = posixpath.dirname(group[0].ref.path)
    return f"{directory}/\\n{len(group):,} tables ({sum(n.ref.rows for n in group):,} rows)"


def _run_label(run: Run) -> str:
    op = run.record.operator
    return f"{op.name} v{op.version}\\n{run.id[:SHORT]}"


class _Diagram:
    """Boxes (groups of table versions) and runs of the graph above ``root``, with the edges
    between them, each once."""

    def __init__(self, root: Node) -> None:
        self.runs = list(iter_distinct_runs(root))
        readers: dict[int, set[str]] = {}
        for run, _, inputs in self.runs:
            for node in inputs:
                readers.setdefault(id(node), set()).add(run.id)
        nodes = list(iter_nodes(root))
        self.groups = [[root]] + dataset_groups(nodes[1:], lambda n: tuple(sorted(readers.get(id(n), ()))))
        self.box = {id(node): number for number, group in enumerate(self.groups) for node in group}

    def edges(self, run_outputs: list[Node], run_inputs: list[Node]) -> tuple[list[int], list[int]]:
        """(boxes the run wrote, boxes it read), each once, in first-seen order."""
        outs = list(dict.fromkeys(self.box[id(n)] for n in run_outputs))
        ins = list(dict.fromkeys(self.box[id(n)] for n in run_inputs))
        return outs, ins


def _dot_id(group: list[Node], number: int) -> str:
    return f"t_{group[0].ref.table}_{group[0].ref.path}" if len(group) == 1 else f"d_{number}_{posixpath.dirname(group[0].ref.path)}"


def to_dot(root: Node) -> str:
    """Graphviz: boxes are table versions or datasets (sources shaded), ellipses are runs."""
    diagram = _Diagram(root)
    ids = [_dot_id(group, number) for number, group in enumerate(diagram.groups)]
    lines = ["digraph lineage {", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    for number, group in enumerate(diagram.groups):
        style = ', style=filled, fillcolor="#eeeeee"' if group[0].run is None else ""
        lines.append(f'  "{ids[number]}" [shape=box, label={_dot_text(_label(group))}{style}];')
    for run, outputs, inputs in diagram.runs:
        lines.append(f'  "r_{run.id}" [shape=ellipse, label={_dot_text(_run_label(run))}];')
        outs, ins = diagram.edges(outputs, inputs)
        lines.extend(f'  "r_{run.id}" -> "{ids[box]}";' for box in outs)
        lines.extend(f'  "{ids[box]}" -> "r_{run.id}";' for box in ins)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    """A quoted DOT string: quotes escaped, the labels' ``\\n`` left for Graphviz to break lines
    at (JSON quoting would double the backslash and print it)."""
    return '"' + text.replace('"', '\\"') + '"'


def to_mermaid(root: Node) -> str:
    """A Mermaid flowchart (renders in GitHub and GitLab markdown)."""
    diagram = _Diagram(root)
    lines = ["flowchart TB"]
    for number, group in enumerate(diagram.groups):
        lines.append(f'  t{number}["{_mermaid_text(_label(group))}"]')
    for number, (run, outputs, inputs) in enumerate(diagram.runs):
        lines.append(f'  r{number}(["{_mermaid_text(_run_label(run))}"])')
        outs, ins = diagram.edges(outputs, inputs)
        lines.extend(f"  r{number} --> t{box}" for box in outs)
        lines.extend(f"  t{box} --> r{number}" for box in ins)
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid labels: quotes become #quot;, line breaks <br/>."""
    return text.replace('"', "#quot;").replace("\\n", "<br/>")
