"""lakeFS bridge. The export test needs a real lakeFS server (none runs on these machines), so it
runs only when LAKEFS_ENDPOINT is set; URL, configuration and connection errors are tested here
without one, against nothing but 127.0.0.1."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest

from clirun import assert_error_report, cgit, cgit_fails
from remote_helpers import free_port
from corpusgit import Repo

UNREACHABLE_BOUND = 30  # seconds: the SDK's own retries against a refused port


@pytest.fixture(autouse=True)
def _no_lakectl_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKECTL_CONFIG_FILE", str(tmp_path / "no-lakectl.yaml"))
    for name in ("LAKECTL_SERVER_ENDPOINT_URL", "LAKECTL_CREDENTIALS_ACCESS_KEY_ID", "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_lakefs_url_endpoint_and_connection_errors(origin: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    line, hint = cgit_fails("export-lakefs", "HEAD", "s3://bucket/x", code=2, cwd=origin.root)
    assert "not a lakeFS URL" in line and "lakefs://REPOSITORY/BRANCH/PATH" in hint
    for name in ("LAKEFS_ENDPOINT", "LAKEFS_ACCESS_KEY_ID", "LAKEFS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    line, hint = cgit_fails("export-lakefs", "HEAD", "lakefs://corpora/main/web", code=1, cwd=origin.root)
    assert "no lakeFS credentials" in line and "LAKEFS_ACCESS_KEY_ID" in hint
    monkeypatch.setenv("LAKEFS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("LAKEFS_SECRET_ACCESS_KEY", "secret")
    line, hint = cgit_fails("export-lakefs", "HEAD", "lakefs://corpora/main/web", code=2, cwd=origin.root)
    assert "no lakeFS endpoint" in line and "LAKEFS_ENDPOINT" in hint
    started = time.monotonic()
    result = cgit("export-lakefs", "HEAD", "lakefs://corpora/main/web", "--endpoint-url", f"http://127.0.0.1:{free_port()}", code=1, cwd=origin.root)
    assert time.monotonic() - started < UNREACHABLE_BOUND
    line, hint = assert_error_report(result.stderr)
    assert "cannot reach lakeFS" in line and "LAKEFS_ENDPOINT" in hint


@pytest.mark.skipif(not os.environ.get("LAKEFS_ENDPOINT"), reason="needs LAKEFS_ENDPOINT")
def test_export_lakefs_publishes_a_version_with_cgit_ids(origin: Repo) -> None:
    """Needs LAKEFS_ENDPOINT, LAKEFS_ACCESS_KEY_ID, LAKEFS_SECRET_ACCESS_KEY and an existing
    repository LAKEFS_REPO (default ``cgit-test``) with a ``main`` branch."""
    import lakefs
    from lakefs.client import Client

    repository = os.environ.get("LAKEFS_REPO", "cgit-test")
    prefix = f"cgit-tests/{uuid.uuid4().hex[:8]}"
    report = json.loads(cgit("export-lakefs", "HEAD", f"lakefs://{repository}/main/{prefix}", "--json", cwd=origin.root).stdout)
    head = origin.read_commit("HEAD")
    assert report["files"] == 4 and report["metadata"]["cgit_commit"] == origin.refs.head_commit()
    client = Client(host=os.environ["LAKEFS_ENDPOINT"], username=os.environ["LAKEFS_ACCESS_KEY_ID"], password=os.environ["LAKEFS_SECRET_ACCESS_KEY"])
    commit = lakefs.repository(repository, client=client).commit(report["lakefs_commit"]).get_commit()
    assert commit.metadata["cgit_commit"] == origin.refs.head_commit()
    assert set(json.loads(commit.metadata["cgit_tables"])) == {f"data/part-{i}.parquet" for i in range(3)}
    assert commit.metadata["cgit_lineage"] == ",".join(head.lineage)
    listed = {o.path for o in lakefs.repository(repository, client=client).branch("main").objects(prefix=prefix + "/")}
    assert listed == {f"{prefix}/README.md"} | {f"{prefix}/data/part-{i}.parquet" for i in range(3)}
