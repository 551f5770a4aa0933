"""The upstream graph as data (JSON), Graphviz DOT and Mermaid: tables and runs are nodes,
edges go from input table to run to output table (data flows downwards)."""

from __future__ import annotations

import json
from typing import Any

from corpusgit.lineage.graph import Node, Run, iter_nodes, iter_runs

SHORT = 12  # id characters shown in diagrams, as in 'cgit log --oneline'


def graph_json(root: Node) -> dict[str, Any]:
    """{"target", "tables", "runs"}: every table version and run above ``root``."""
    tables = [
        {**node.ref.to_json(), "source": node.run is None, "produced_by": node.run.id if node.run else None}
        for node in iter_nodes(root)
    ]
    runs = [_run_json(run) for _, run in iter_runs(root)]
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


def _label(node: Node) -> str:
    return f"{node.ref.path}\\n{node.ref.table[:SHORT]} ({node.ref.rows:,} rows)"


def _run_label(run: Run) -> str:
    op = run.record.operator
    return f"{op.name} v{op.version}\\n{run.id[:SHORT]}"


def to_dot(root: Node) -> str:
    """Graphviz: boxes are table versions (sources shaded), ellipses are runs."""
    lines = ["digraph lineage {", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    for node in iter_nodes(root):
        style = ', style=filled, fillcolor="#eeeeee"' if node.run is None else ""
        lines.append(f'  "t_{node.ref.table}_{node.ref.path}" [shape=box, label={json.dumps(_label(node))}{style}];')
    for node, run in iter_runs(root):
        lines.append(f'  "r_{run.id}" [shape=ellipse, label={json.dumps(_run_label(run))}];')
        lines.append(f'  "r_{run.id}" -> "t_{node.ref.table}_{node.ref.path}";')
        for child in node.inputs:
            lines.append(f'  "t_{child.ref.table}_{child.ref.path}" -> "r_{run.id}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(root: Node) -> str:
    """A Mermaid flowchart (renders in GitHub and GitLab markdown)."""
    ids: dict[int, str] = {}
    lines = ["flowchart TB"]
    for number, node in enumerate(iter_nodes(root)):
        ids[id(node)] = f"t{number}"
        lines.append(f'  t{number}["{_mermaid_text(_label(node))}"]')
    for number, (node, run) in enumerate(iter_runs(root)):
        lines.append(f'  r{number}(["{_mermaid_text(_run_label(run))}"])')
        lines.append(f"  r{number} --> {ids[id(node)]}")
        for child in node.inputs:
            lines.append(f"  {ids[id(child)]} --> r{number}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid labels: quotes become #quot;, line breaks <br/>."""
    return text.replace('"', "#quot;").replace("\\n", "<br/>")
