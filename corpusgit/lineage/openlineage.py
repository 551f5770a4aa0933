"""OpenLineage export: a START and a COMPLETE RunEvent per run above a table version.

Datasets carry the table id in the standard ``version`` (DatasetVersion) facet, so a lineage
server sees exactly which version each run read and wrote; the run carries a custom
``cgit_operator`` facet with the operator, its code hash and canonical config. Run ids are
UUIDs derived from the lineage record id, so exporting twice gives the same events. Plain
dicts are produced here (no dependency on the OpenLineage client); the tests validate them
with the ``openlineage-python`` models.

A run over a dataset is one event pair whose inputs and outputs list every shard (each a
dataset with its own table id); its job is named after the output directory
(``data/dedup/:dedup-exact``), a run over one table after the table.
"""

from __future__ import annotations

import posixpath
import uuid
from typing import Any

from corpusgit.lineage.graph import Node, Run, iter_distinct_runs
from corpusgit.lineage.record import LineageRecord, TableRef

PRODUCER = "https://pypi.org/project/corpusgit/"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
VERSION_FACET_SCHEMA = "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"
OPERATOR_FACET = "cgit_operator"
OPERATOR_FACET_SCHEMA = "https://pypi.org/project/corpusgit/spec/facets/1-0-0/CgitOperatorRunFacet.json#/$defs/CgitOperatorRunFacet"


def run_events(root: Node, namespace: str) -> list[dict[str, Any]]:
    """Events for every run above ``root``, upstream runs first, each run's START before COMPLETE."""
    events: list[dict[str, Any]] = []
    for run, _, _ in reversed(list(iter_distinct_runs(root))):
        record = run.record
        for event_type, when in (("START", record.started), ("COMPLETE", record.ended)):
            events.append({
                "eventType": event_type,
                "eventTime": when,
                "producer": PRODUCER,
                "schemaURL": RUN_EVENT_SCHEMA,
                "run": {"runId": run_uuid(run.id), "facets": {OPERATOR_FACET: _operator_facet(run)}},
                "job": {"namespace": namespace, "name": f"{job_target(record)}:{record.operator.name}", "facets": {}},
                "inputs": [_dataset(t, namespace) for t in record.inputs],
                "outputs": [_dataset(t, namespace) for t in record.outputs],
            })
    return events


def job_target(record: LineageRecord) -> str:
    """What a run's job is named after: its output table, or the output directory (with a
    trailing '/') of a run that wrote several tables."""
    if len(record.outputs) == 1:
        return record.outputs[0].path
    directory = posixpath.commonpath([o.path for o in record.outputs]) if record.outputs else ""
    return f"{directory}/"


def run_uuid(record_id: str) -> str:
    """A stable UUID for a lineage record (OpenLineage run ids must be UUIDs)."""
    return str(uuid.UUID(hex=record_id[:32], version=4))


def _dataset(ref: TableRef, namespace: str) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "name": ref.path,
        "facets": {"version": {"_producer": PRODUCER, "_schemaURL": VERSION_FACET_SCHEMA, "datasetVersion": ref.table}},
    }


def _operator_facet(run: Run) -> dict[str, Any]:
    op = run.record.operator
    return {
        "_producer": PRODUCER,
        "_schemaURL": OPERATOR_FACET_SCHEMA,
        "name": op.name,
        "version": op.version,
        "kind": op.kind,
        "codeHash": op.code_hash,
        "source": op.source,
        "config": run.record.config,
        "configHash": run.record.config_hash,
        "lineageId": run.id,
        "commit": run.commit,
    }
