"""``cgit lineage --openlineage``: RunEvents that the openlineage-python models accept, and that
survive a round trip through them unchanged (so no field is misnamed or misplaced)."""

from __future__ import annotations

import json
from typing import Any

import attr
import pyarrow as pa
import pytest
from clirun import Cli
from lineagehelp import RAW, realtext
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, dataset_version_dataset
from openlineage.client.serde import Serde

from corpusgit import Repo
from corpusgit.lineage.openlineage import OPERATOR_FACET, OPERATOR_FACET_SCHEMA, run_uuid


@attr.define
class CgitOperatorRunFacet(RunFacet):
    """The custom run facet, declared the way OpenLineage documents custom facets."""

    name: str
    version: str
    kind: str
    codeHash: str  # noqa: N815
    source: str
    config: dict[str, Any]
    configHash: str  # noqa: N815
    lineageId: str  # noqa: N815
    commit: str | None

    @staticmethod
    def _get_schema() -> str:
        return OPERATOR_FACET_SCHEMA


def _datasets(items: list[dict[str, Any]], cls: type[Any]) -> list[Any]:
    out = []
    for d in items:
        version = d["facets"]["version"]
        facet = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version["datasetVersion"], producer=version["_producer"])
        out.append(cls(namespace=d["namespace"], name=d["name"], facets={"version": facet}))
    return out


def to_model(event: dict[str, Any]) -> RunEvent:
    """Build the typed event; attrs validators check times, URIs and the run UUID."""
    facet = dict(event["run"]["facets"][OPERATOR_FACET])
    producer = facet.pop("_producer")
    facet.pop("_schemaURL")
    return RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        producer=event["producer"],
        run=Run(runId=event["run"]["runId"], facets={OPERATOR_FACET: CgitOperatorRunFacet(producer=producer, **facet)}),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"], facets={}),
        inputs=_datasets(event["inputs"], InputDataset),
        outputs=_datasets(event["outputs"], OutputDataset),
    )


def _drop_empty(value: Any) -> Any:
    """Nulls and empty facet maps mean "none" on both sides; compare without them."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def test_events_validate_and_round_trip(corpus_repo: Repo, cli: Cli) -> None:
    cli("run", "dedup-exact", "-i", RAW, "-o", "data/dedup/web.parquet", "-q")
    cli("run", "filter-length", "-i", "data/dedup/web.parquet", "-o", "data/long/web.parquet", "-c", "min_chars=300", "--commit", "-q")
    events = json.loads(cli("lineage", "data/long/web.parquet", "--openlineage", "--namespace", "cgit://corpus").stdout)
    assert [(e["eventType"], e["run"]["facets"][OPERATOR_FACET]["name"]) for e in events] == [
        ("START", "dedup-exact"), ("COMPLETE", "dedup-exact"), ("START", "filter-length"), ("COMPLETE", "filter-length")
    ]
    head = corpus_repo.read_commit("HEAD")
    for event in events:
        model = to_model(event)
        assert _drop_empty(Serde.to_dict(model)) == _drop_empty(event)
        facet = event["run"]["facets"][OPERATOR_FACET]
        assert event["run"]["runId"] == run_uuid(facet["lineageId"]) and facet["lineageId"] in head.lineage
        assert facet["commit"] == corpus_repo.refs.head_commit()
    last = events[-1]
    index = corpus_repo.read_index().entries
    assert last["outputs"][0]["facets"]["version"]["datasetVersion"] == index["data/long/web.parquet"].id
    assert last["inputs"][0]["facets"]["version"]["datasetVersion"] == index["data/dedup/web.parquet"].id
    assert events[0]["inputs"][0]["name"] == RAW and events[0]["job"]["namespace"] == "cgit://corpus"
    broken = json.loads(json.dumps(last))
    broken["run"]["runId"] = last["run"]["facets"][OPERATOR_FACET]["lineageId"]  # not a UUID: the model refuses it
    with pytest.raises(ValueError):
        to_model(broken)
    config = last["run"]["facets"][OPERATOR_FACET]["config"]
    assert config["min_chars"] == 300 and last["run"]["facets"][OPERATOR_FACET]["kind"] == "filter"


def test_a_dataset_run_is_one_event_pair_listing_every_shard(corpus_repo: Repo, cli: Cli, write_parquet: Any) -> None:
    table = realtext.corpus_table()
    write_parquet("data/raw/zz-more.parquet", table.slice(0, 3).set_column(0, "id", pa.array([900, 901, 902], pa.int64())))
    corpus_repo.add(["data/raw/zz-more.parquet"])
    corpus_repo.commit("a second shard, repeating three documents")
    cli("run", "dedup-exact", "-i", "data/raw", "-o", "data/dedup", "--commit", "-q")
    events = json.loads(cli("lineage", "data/dedup/zz-more.parquet", "--openlineage").stdout)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        assert _drop_empty(Serde.to_dict(to_model(event))) == _drop_empty(event)
        assert event["job"]["name"] == "data/dedup/:dedup-exact"
        assert [d["name"] for d in event["inputs"]] == [RAW, "data/raw/zz-more.parquet"]
        assert [d["name"] for d in event["outputs"]] == ["data/dedup/web.parquet", "data/dedup/zz-more.parquet"]
    index = corpus_repo.read_index().entries
    assert [d["facets"]["version"]["datasetVersion"] for d in events[1]["outputs"]] == [index[d["name"]].id for d in events[1]["outputs"]]
    assert index["data/dedup/zz-more.parquet"].rows == 0  # every document repeated one in the first shard
