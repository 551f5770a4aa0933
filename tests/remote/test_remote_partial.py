"""Partial clone: commits, trees and tables only; chunks arrive when something reads them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from clirun import cgit
from remote_helpers import RemoteSpec, attach, free_port
from corpusgit import Repo
from corpusgit.errors import CorpusGitError
from corpusgit.reach import CHUNK, roots, walk
from corpusgit.remote.push import push
from corpusgit.remote.settings import set_remote_value
from corpusgit.revparse import resolve_table
from test_remote_commands import rows


def chunk_ids(repo: Repo) -> set[str]:
    reach = walk(repo, roots(repo))
    return {oid for oid, kind in reach.kinds.items() if kind == CHUNK}


def test_partial_clone_fetches_chunks_on_demand_and_caches_them(origin: Repo, spec: RemoteSpec, tmp_path: Path) -> None:
    attach(origin, spec)
    push(origin, tags=True, branch="main")
    every_chunk = chunk_ids(origin)
    report = json.loads(cgit("clone", "--filter=metadata", "--no-checkout", *spec.cli_args(), "node", "--json", cwd=tmp_path).stdout)
    node = Repo(tmp_path / "node")
    assert report["fetch"]["chunks_not_fetched"] == len(every_chunk)
    assert not every_chunk & set(node.store.iter_ids())
    checked = cgit("fsck", cwd=node.root)
    assert f"{len(every_chunk)} chunks not fetched (partial clone)" in checked.stderr
    cgit("gc", "--now", cwd=node.root)  # chunks left on the remote on purpose are not damage
    assert not every_chunk & set(node.store.iter_ids())

    # reading one table brings in exactly its chunks, verified, and keeps them
    before = set(node.store.iter_ids())
    assert rows(node, "v1", "data/part-0.parquet") == rows(origin, "v1", "data/part-0.parquet")
    wanted = {r.id for r in resolve_table(node, "v1", "data/part-0.parquet").chunk_refs()}
    assert set(node.store.iter_ids()) - before == wanted

    # with the remote gone, what was read stays readable; what was not fails clearly
    if spec.kind == "dir":
        Path(spec.url).rename(Path(spec.url).with_name("moved-away"))
    else:
        set_remote_value(node, "origin", "endpoint", f"http://127.0.0.1:{free_port()}")
    offline = Repo(node.root)
    assert rows(offline, "v1", "data/part-0.parquet") == rows(origin, "v1", "data/part-0.parquet")
    with pytest.raises(CorpusGitError):
        offline.read_table("v1", "data/part-1.parquet").read_all()
    if spec.kind == "dir":
        Path(spec.url).with_name("moved-away").rename(spec.url)
    else:
        set_remote_value(node, "origin", "endpoint", spec.endpoint or "")

    # show, diff and checkout read through the promisor too
    assert "rows" in cgit("show", "HEAD:data/part-1.parquet", cwd=node.root).stdout
    assert cgit("diff", "HEAD~1", "HEAD", "--stat", cwd=node.root).exit_code == 0
    cgit("checkout", "main", "-q", cwd=node.root)
    assert rows(node, "HEAD", "data/part-2.parquet") == rows(origin, "HEAD", "data/part-2.parquet")
    assert (node.root / "data/part-2.parquet").exists()
    assert "; 0 problem(s)" in cgit("fsck", cwd=node.root).stdout  # every fetched chunk verifies


def test_partial_clone_pushes_through_its_promisor(origin: Repo, new_spec: Callable[[str], RemoteSpec], tmp_path: Path) -> None:
    first = new_spec("dir")
    attach(origin, first)
    push(origin)
    cgit("clone", "--filter=metadata", "--no-checkout", first.url, "node", "-q", cwd=tmp_path)
    node = Repo(tmp_path / "node")
    mirror = new_spec("dir")
    cgit("remote", "add", "mirror", mirror.url, cwd=node.root)
    line = cgit("remote", "remove", "origin", code=2, cwd=node.root).stderr
    assert "partial clone" in line
    cgit("push", "mirror", "main", "-q", cwd=node.root)  # chunks come from origin, then go up
    assert mirror.object_keys() == first.object_keys()


def test_a_training_node_streams_one_mix_from_s3(origin: Repo, new_spec: Callable[[str], RemoteSpec], tmp_path: Path) -> None:
    from corpusgit.mix.create import create_mix
    from corpusgit.mix.reader import MixReader
    from corpusgit.mix.spec import parse_spec
    from corpusgit.mix.storage import load_mix

    spec = new_spec("s3")
    doc = {"seed": 3, "budget": {"rows": 400}, "shard_rows": 100, "sources": [{"name": "web", "path": "data", "ref": "v1", "weight": 1}]}
    stored = create_mix(origin, parse_spec(doc, origin.root)).stored
    want = pa.Table.from_batches(list(MixReader.open(origin, stored).batches(128)))
    attach(origin, spec)
    report = json.loads(cgit("push", "origin", "main", "--mixes", "--json", cwd=origin.root).stdout)
    assert any(u["note"] == "new mix" for u in report["updates"])

    cgit("clone", "--filter=metadata", "--no-checkout", *spec.cli_args(), "node", "-q", cwd=tmp_path)
    node = Repo(tmp_path / "node")
    assert not chunk_ids(origin) & set(node.store.iter_ids())
    got = pa.Table.from_batches(list(MixReader.open(node, load_mix(node, stored.id[:12])).batches(128)))
    assert got.column("_cgit_row").to_pylist() == want.column("_cgit_row").to_pylist()
    fetched = chunk_ids(origin) & set(node.store.iter_ids())
    assert fetched and fetched <= {r.id for p in ("data/part-0.parquet", "data/part-1.parquet", "data/part-2.parquet") for r in resolve_table(origin, "v1", p).chunk_refs()}
    assert "; 0 problem(s)" in cgit("fsck", cwd=node.root).stdout
