"""The Python reader: records and batches agree, shards compose, states are checked, and the
optional adapters explain how to install what they need."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest
from mixhelp import row_ids, stream

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.mix import open as open_mix
from corpusgit.mix.adapters import hf_dataset, torch_dataset
from corpusgit.mix.storage import StoredMix


def test_records_and_batches_are_the_same_samples(corpus: Repo, mix: StoredMix) -> None:
    reader = open_mix(mix.id, corpus)
    assert len(reader) == mix.samples and reader.schema.names[-2:] == ["_source", "_cgit_row"]
    records = list(reader)
    assert reader.consumed == mix.samples
    table = stream(corpus, mix)
    assert [r["_cgit_row"] for r in records] == row_ids(table)
    assert [r["id"] for r in records] == table.column("id").to_pylist()


def test_opening_by_path_prefix_and_with_fewer_columns(corpus: Repo, mix: StoredMix) -> None:
    reader = open_mix(mix.id[:10], str(corpus.root / "data"), columns=["id"])
    first = next(reader.batches(10))
    assert first.schema.names == ["id", "_source", "_cgit_row"] and first.num_rows == 10
    assert first.column("id").to_pylist() == stream(corpus, mix).column("id").to_pylist()[:10]
    with pytest.raises(BadInput, match="has no column 'body'"):
        open_mix(mix.id, corpus, columns=["body"])


def test_shards_compose_as_arithmetic_on_the_index(corpus: Repo, mix: StoredMix) -> None:
    reader = open_mix(mix.id, corpus)
    nested = reader.shard(1, 2).shard(2, 3)
    flat = reader.shard(5, 6)
    assert (nested.offset, nested.stride) == (flat.offset, flat.stride) == (5, 6)
    assert len(flat) == len(range(5, mix.samples, 6))
    assert sum(len(reader.shard(r, 7)) for r in range(7)) == mix.samples
    assert len(reader.shard(0, mix.samples + 5)) == 1  # more ranks than samples: some get one...
    assert len(reader.shard(mix.samples + 4, mix.samples + 5)) == 0  # ...the rest none
    with pytest.raises(BadInput, match="rank 3 is not in 0..2"):
        reader.shard(3, 3)


def test_states_of_other_mixes_or_shards_are_refused(corpus: Repo, mix: StoredMix) -> None:
    reader = open_mix(mix.id, corpus).shard(0, 2)
    state = reader.state_dict()
    with pytest.raises(BadInput, match="shard offset=0 stride=2"):
        open_mix(mix.id, corpus).load_state_dict(state)
    with pytest.raises(BadInput, match="belongs to mix"):
        open_mix(mix.id, corpus).shard(0, 2).load_state_dict(dict(state, mix="0" * 64))
    with pytest.raises(BadInput, match="bad 'consumed'"):
        open_mix(mix.id, corpus).shard(0, 2).load_state_dict(dict(state, consumed=10**9))
    with pytest.raises(BadInput, match="batch_size"):
        open_mix(mix.id, corpus, batch_size=-1)


def test_finished_reader_stays_finished(corpus: Repo, mix: StoredMix) -> None:
    reader = open_mix(mix.id, corpus).shard(0, 50)
    assert len(pa.Table.from_batches(list(reader.batches()))) == len(reader)
    assert list(reader.batches()) == [] and list(reader) == []


def test_adapters_name_the_extra_to_install(corpus: Repo, mix: StoredMix, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    monkeypatch.setitem(sys.modules, "torch.utils", None)
    monkeypatch.setitem(sys.modules, "torch.utils.data", None)
    monkeypatch.setitem(sys.modules, "datasets", None)
    reader = open_mix(mix.id, corpus)
    with pytest.raises(BadInput) as info:
        torch_dataset(reader)
    assert info.value.hint == "pip install 'corpusgit[torch]'"
    with pytest.raises(BadInput) as info:
        hf_dataset(reader)
    assert info.value.hint == "pip install 'corpusgit[hf]'"
