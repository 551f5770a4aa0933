"""Bad input: every refusal is one error line naming what to fix, plus a hint."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import assert_error_report, cgit, cgit_fails
from remote_helpers import RemoteSpec, free_port, new_bucket, s3_client, start_helper, stop
from corpusgit import Repo

UNREACHABLE_BOUND = 20  # seconds: connect timeout plus bounded retries


def test_unsupported_scheme_lists_the_supported_ones(repo: Repo) -> None:
    for url in ("http://example.com/corpus", "gs://bucket/corpus", "lakefs://repo/main"):
        line, hint = cgit_fails("remote", "add", "x", url, code=2, cwd=repo.root)
        assert "unsupported remote URL scheme" in line
        assert "s3://BUCKET/PREFIX" in hint and "local or NFS path" in hint
    line, _ = cgit_fails("remote", "add", "x", "s3://Not_A_Bucket/p", code=2, cwd=repo.root)
    assert "not a valid bucket name" in line
    line, _ = cgit_fails("remote", "add", "bad name", "/tmp/x", code=2, cwd=repo.root)
    assert "not a valid remote name" in line


def test_unreachable_endpoint_fails_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    result = cgit("clone", "s3://corpora/web", "--endpoint-url", f"http://127.0.0.1:{free_port()}", code=1, cwd=tmp_path)
    assert time.monotonic() - started < UNREACHABLE_BOUND
    line, hint = assert_error_report(result.stderr)
    assert "cannot reach http://127.0.0.1:" in line and "--endpoint-url" in hint
    assert not (tmp_path / "web").exists()  # nothing created before the remote answered


def test_missing_credentials_name_the_setting(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = new_bucket(s3_endpoint)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    line, hint = cgit_fails("clone", f"s3://{bucket}/x", "--endpoint-url", s3_endpoint, code=1, cwd=tmp_path)
    assert "no AWS credentials" in line and "AWS_ACCESS_KEY_ID" in hint and "AWS_SECRET_ACCESS_KEY" in hint
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    line, hint = cgit_fails("clone", f"s3://{bucket}/x", "--endpoint-url", s3_endpoint, code=1, cwd=tmp_path)
    assert "AWS_SECRET_ACCESS_KEY is missing" in line or "AWS_SECRET_ACCESS_KEY" in hint


@pytest.fixture
def authenticating_endpoint() -> Iterator[str]:
    """An S3 server that checks access keys (moto accepts any key unless told otherwise)."""
    port = free_port()
    proc = start_helper("s3server.py", port, env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def test_wrong_credentials_name_the_setting(authenticating_endpoint: str, tmp_path: Path) -> None:
    line, hint = cgit_fails("clone", "s3://corpora/web", "--endpoint-url", authenticating_endpoint, code=1, cwd=tmp_path)
    assert "does not know the access key" in line and "AWS_ACCESS_KEY_ID" in hint


def test_missing_s3_extra_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if corpusgit[s3] were not installed
    line, hint = cgit_fails("clone", "s3://corpora/web", code=1, cwd=tmp_path)
    assert "need boto3" in line and "corpusgit[s3]" in hint


def test_location_that_is_not_a_cgit_repository(spec: RemoteSpec, tmp_path: Path) -> None:
    line, hint = cgit_fails("clone", *spec.cli_args(), "a", code=1, cwd=tmp_path)
    assert "is empty" in line and "cgit push" in hint
    if spec.kind == "dir":
        Path(spec.url).mkdir(parents=True)
        (Path(spec.url) / "notes.txt").write_text("not a repository\n")
    else:
        s3_client(spec.endpoint or "").put_object(Bucket=spec.bucket, Key=f"{spec.prefix}/notes.txt", Body=b"not a repository\n")
    line, hint = cgit_fails("clone", *spec.cli_args(), "b", code=1, cwd=tmp_path)
    assert "is not a cgit repository" in line and "HEAD, config.toml" in hint
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_missing_bucket(s3_endpoint: str, tmp_path: Path) -> None:
    line, hint = cgit_fails("clone", "s3://no-such-bucket-here/x", "--endpoint-url", s3_endpoint, code=1, cwd=tmp_path)
    assert "bucket 'no-such-bucket-here' does not exist" in line and "aws s3 mb" in hint


def test_refusals_in_the_local_repository(repo: Repo, tmp_path: Path) -> None:
    line, _ = cgit_fails("fetch", "nowhere", code=2, cwd=repo.root)
    assert "no remote named 'nowhere'" in line
    cgit("remote", "add", "origin", str(tmp_path / "remote"), cwd=repo.root)
    line, _ = cgit_fails("push", code=2, cwd=repo.root)
    assert "no local branch 'main'" in line
    line, _ = cgit_fails("clone", str(tmp_path / "remote"), "x", "--filter=blob:none", code=2, cwd=tmp_path)
    assert "unknown clone filter" in line
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "file").write_text("x")
    Repo.init(tmp_path / "src")
    cgit("remote", "add", "origin", str(tmp_path / "bare"), cwd=tmp_path / "src")
    line, _ = cgit_fails("clone", str(tmp_path / "src"), "occupied", code=2, cwd=tmp_path)
    assert "already exists and is not empty" in line
