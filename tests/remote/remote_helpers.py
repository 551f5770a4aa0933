"""Remote-test fixtures: an S3 endpoint (moto) on 127.0.0.1 for the session, fresh remote
locations of both kinds, and a small history to move around.

Every test runs with fake AWS credentials, no AWS config files and the EC2 metadata lookup off,
so nothing ever leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.history import commit
from corpusgit.remote.settings import add_remote

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 30  # seconds for moto to start listening


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"helper on port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def start_helper(script: str, *args: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``tests/remote/<script>`` listening on ``args[0]``; returns once it accepts."""
    proc = subprocess.Popen([sys.executable, str(HERE / script), *map(str, args)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(args[0], proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(10)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of an S3 server shared by the session."""
    port = free_port()
    proc = start_helper("s3server.py", port)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


def new_bucket(endpoint: str) -> str:
    name = f"cgit-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


@dataclass(frozen=True)
class RemoteSpec:
    """A fresh remote location: ``url`` plus ``endpoint`` (S3 only)."""

    kind: str
    url: str
    endpoint: str | None
    bucket: str = ""
    prefix: str = ""

    def object_keys(self) -> set[str]:
        """Ids of the objects stored at the remote (read behind cgit's back)."""
        if self.kind == "dir":
            root = Path(self.url) / "objects"
            return {p.parent.name + p.name for p in root.glob("*/*") if not p.name.startswith(".")} if root.exists() else set()
        assert self.endpoint is not None
        pages = s3_client(self.endpoint).get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/objects/")
        return {k["Key"].rsplit("/", 2)[-2] + k["Key"].rsplit("/", 1)[-1] for page in pages for k in page.get("Contents", [])}

    def replace(self, oid: str, data: bytes | None = None) -> None:
        """Overwrite an object on the remote behind cgit's back (default: zeros, same length)."""
        if self.kind == "dir":
            path = Path(self.url) / "objects" / oid[:2] / oid[2:]
            path.write_bytes(data if data is not None else b"\x00" * path.stat().st_size)
            return
        assert self.endpoint is not None
        client = s3_client(self.endpoint)
        key = f"{self.prefix}/objects/{oid[:2]}/{oid[2:]}"
        if data is None:
            data = b"\x00" * int(client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def cli_args(self) -> list[str]:
        return [self.url] + (["--endpoint-url", self.endpoint] if self.endpoint else [])


def make_spec(kind: str, tmp_path: Path, endpoint: str | None) -> RemoteSpec:
    if kind == "dir":
        return RemoteSpec("dir", str(tmp_path / f"remote-{uuid.uuid4().hex[:6]}"), None)
    assert endpoint is not None
    bucket = new_bucket(endpoint)
    return RemoteSpec("s3", f"s3://{bucket}/corpora/web", endpoint, bucket, "corpora/web")


@pytest.fixture(params=["dir", "s3"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteSpec:
    """A fresh, empty remote location of each kind."""
    endpoint = request.getfixturevalue("s3_endpoint") if request.param == "s3" else None
    return make_spec(request.param, tmp_path, endpoint)


@pytest.fixture
def new_spec(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], RemoteSpec]:
    """``new_spec(kind)``: another fresh location."""

    def make(kind: str) -> RemoteSpec:
        return make_spec(kind, tmp_path, request.getfixturevalue("s3_endpoint") if kind == "s3" else None)

    return make


def write_table(root: Path, rel: str, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


@pytest.fixture
def origin(repo: Repo, make_table: Callable[..., pa.Table]) -> Repo:
    """Two commits: v1 (three tables and a README, tagged v1), then a 10% filter of one table."""
    for i in range(3):
        write_table(repo.root, f"data/part-{i}.parquet", make_table(rows=600, seed=i))
    (repo.root / "README.md").write_text("web corpus\n")
    repo.add([repo.root / "data", repo.root / "README.md"])
    commit(repo, "raw crawl")
    repo.refs.update("refs/tags/v1", repo.refs.head_commit(), None, "tag v1")
    filtered = make_table(rows=600, seed=1).filter(pa.array([i % 10 != 3 for i in range(600)]))
    write_table(repo.root, "data/part-1.parquet", filtered)
    repo.add([repo.root / "data"])
    commit(repo, "quality filter")
    return repo


def attach(repo: Repo, spec: RemoteSpec, name: str = "origin") -> None:
    add_remote(repo, name, spec.url, spec.endpoint)
