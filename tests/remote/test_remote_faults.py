"""Faults: an interrupted push (the endpoint killed mid-push, or the client stopped), a corrupt
object on the remote, and pushes racing for one branch."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from remote_helpers import RemoteSpec, attach, free_port, start_helper, stop
from corpusgit import Repo
from corpusgit.errors import RefConflict
from corpusgit.history import commit, log
from corpusgit.objects import read_commit, read_tree
from corpusgit.remote.errors import NonFastForward, RemoteObjectCorrupt, RemoteUnreachable
from corpusgit.remote.fetch import clone, fetch, pull
from corpusgit.remote.push import push
from corpusgit.remote.settings import set_remote_value
from corpusgit.table.model import TableObject

UNREACHABLE_BOUND = 20  # seconds: connect timeout plus bounded retries, never a hang


class Interrupted(Exception):
    """Stands in for Ctrl-C in the middle of a transfer."""


class _CountingTask:
    def __init__(self, after: int, action: Callable[[], None]) -> None:
        self.count = 0
        self.after = after
        self.action = action
        self.lock = threading.Lock()

    def advance(self, amount: int = 1) -> None:
        with self.lock:
            self.count += 1
            fire = self.count == self.after
        if fire:
            self.action()


class InterruptAfter:
    """Progress that runs ``action`` when the ``after``-th object has been sent."""

    def __init__(self, after: int, action: Callable[[], None]) -> None:
        self.after = after
        self.action = action

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[_CountingTask]:
        yield _CountingTask(self.after if description.startswith("sending") else -1, self.action)


def _raise() -> None:
    raise Interrupted


def test_interrupted_push_resumes_without_resending(origin: Repo, new_spec: Callable[[str], RemoteSpec]) -> None:
    spec = new_spec("dir")
    attach(origin, spec)
    with pytest.raises(Interrupted):
        push(origin, jobs=1, progress=InterruptAfter(4, _raise))
    arrived = spec.object_keys()
    assert len(arrived) == 4
    assert not (Path(spec.url) / "refs/heads/main").exists()  # the ref moves only at the end
    result = push(origin, jobs=1)
    assert result.already_there == 4
    assert result.objects + 4 == len(spec.object_keys())
    assert spec.object_keys() >= arrived


def test_endpoint_killed_mid_push_then_push_again(origin: Repo, s3_endpoint: str, new_spec: Callable[[str], RemoteSpec], tmp_path: Path) -> None:
    direct = new_spec("s3")
    proxy_port = free_port()
    proxy = start_helper("tcpproxy.py", proxy_port, int(s3_endpoint.rsplit(":", 1)[1]))
    via_proxy = RemoteSpec("s3", direct.url, f"http://127.0.0.1:{proxy_port}", direct.bucket, direct.prefix)
    attach(origin, via_proxy)
    started = time.monotonic()
    try:
        with pytest.raises(RemoteUnreachable) as failure:
            push(origin, jobs=2, progress=InterruptAfter(5, lambda: stop(proxy)))
        assert time.monotonic() - started < UNREACHABLE_BOUND
        assert "cannot reach http://127.0.0.1:" in failure.value.message
        arrived = direct.object_keys()
        total = len(arrived)
        assert 5 <= total
        proxy = start_helper("tcpproxy.py", proxy_port, int(s3_endpoint.rsplit(":", 1)[1]))
        result = push(origin, jobs=2)
    finally:
        stop(proxy)
    everything = direct.object_keys()
    assert total < len(everything)
    assert result.already_there == len(arrived) and result.objects == len(everything) - len(arrived)
    copy, _ = clone(direct.url, tmp_path / "copy", direct.endpoint)
    assert copy.refs.head_commit() == origin.refs.head_commit()


def _first_chunk(repo: Repo, path: str) -> str:
    tree = read_tree(repo.store, read_commit(repo.store, repo.refs.head_commit() or "").tree)
    return TableObject.from_json(repo.store.get_meta(tree.entries[path].id)).chunk_refs()[0].id


def test_corrupt_remote_object_is_detected_on_fetch(origin: Repo, spec: RemoteSpec, tmp_path: Path) -> None:
    attach(origin, spec)
    push(origin)
    chunk = _first_chunk(origin, "data/part-2.parquet")
    spec.replace(chunk)
    with pytest.raises(RemoteObjectCorrupt) as failure:
        clone(spec.url, tmp_path / "copy", spec.endpoint)
    assert chunk in failure.value.message and "intact clone" in (failure.value.hint or "")
    partial = Repo(tmp_path / "copy")
    assert not partial.store.has(chunk)
    assert partial.refs.read("refs/remotes/origin/main") is None and partial.refs.head_commit() is None
    spec.replace(chunk, origin.store.path(chunk).read_bytes())  # repaired from an intact clone
    copy, result = clone(spec.url, tmp_path / "copy", spec.endpoint)  # the rerun resumes
    assert copy.refs.head_commit() == origin.refs.head_commit()
    assert 0 < result.objects < len(spec.object_keys())


def test_corrupt_metadata_on_the_remote_is_never_stored(origin: Repo, new_spec: Callable[[str], RemoteSpec]) -> None:
    spec = new_spec("dir")
    attach(origin, spec)
    push(origin)
    head = origin.refs.head_commit() or ""
    tree = read_commit(origin.store, head).tree
    spec.replace(tree, b"x\x9c" + bytes(30))
    receiver = Repo.init(Path(spec.url).parent / "receiver")
    attach(receiver, spec)
    with pytest.raises(RemoteObjectCorrupt):
        fetch(receiver)
    assert not receiver.store.has(tree)
    assert receiver.refs.list_refs("refs/remotes/") == {}


def _race(clients: list[Repo], action: Callable[[Repo], None]) -> list[BaseException | None]:
    """Run ``action`` on every client at the same instant; each slot holds its error or None."""
    barrier = threading.Barrier(len(clients))
    errors: list[BaseException | None] = [None] * len(clients)

    def run(i: int) -> None:
        barrier.wait()
        try:
            action(clients[i])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on by the caller
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def _clients(spec: RemoteSpec, tmp_path: Path, n: int) -> list[Repo]:
    """``n`` clones of the remote: one clone, copied (a copy's stat cache is stale, so these
    clients only commit and push)."""
    first, _ = clone(spec.url, tmp_path / "client-0", spec.endpoint)
    for i in range(1, n):
        shutil.copytree(first.root, tmp_path / f"client-{i}", symlinks=True)
    return [first] + [Repo(tmp_path / f"client-{i}") for i in range(1, n)]


@pytest.mark.parametrize("kind, cas", [("dir", None), ("s3", None), ("s3", "lease")])
def test_simultaneous_pushes_exactly_one_wins(origin: Repo, new_spec: Callable[[str], RemoteSpec], tmp_path: Path, kind: str, cas: str | None) -> None:
    spec = new_spec(kind)
    attach(origin, spec)
    push(origin)
    clients = _clients(spec, tmp_path, 4)
    mine = {}
    for i, client in enumerate(clients):
        if cas is not None:  # as if the store ignored conditional writes
            set_remote_value(client, "origin", "cas", cas)
        mine[i] = commit(client, f"client {i}", allow_empty=True).id
    errors = _race(clients, lambda c: push(c, jobs=2))
    winners = [i for i, e in enumerate(errors) if e is None]
    assert len(winners) == 1, errors
    assert all(isinstance(e, NonFastForward) for e in errors if e is not None), errors
    fetch(origin)
    assert origin.refs.read("refs/remotes/origin/main") == mine[winners[0]]


def test_concurrent_pushes_never_lose_a_commit(origin: Repo, spec: RemoteSpec, tmp_path: Path) -> None:
    attach(origin, spec)
    push(origin)
    clients = [clone(spec.url, tmp_path / f"client-{i}", spec.endpoint)[0] for i in range(3)]
    rounds = 2

    def work(client: Repo) -> None:
        for k in range(rounds):
            commit(client, f"{client.root.name} #{k}", allow_empty=True)
            for _ in range(30):
                try:
                    push(client, jobs=2)
                    break
                except RefConflict:  # lost the race (or non-fast-forward): merge theirs, retry
                    pull(client, jobs=2)
            else:
                raise AssertionError("push never succeeded")

    errors = _race(clients, work)
    assert errors == [None] * len(clients)
    fetch(origin)
    subjects = {entry.commit.subject for entry in log(origin, "refs/remotes/origin/main")}
    assert {f"client-{i} #{k}" for i in range(3) for k in range(rounds)} <= subjects
