"""DVC bridge against the real ``dvc`` package on a temporary git+DVC repository."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from clirun import cgit, cgit_fails
from remote_helpers import write_table
from corpusgit import Repo
from corpusgit.lineage.record import read_record
from dvc.repo import Repo as DvcRepo
from test_remote_commands import rows


@pytest.fixture(autouse=True)
def _quiet_dvc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No analytics, no user or system config, caches inside tmp_path: nothing leaves the test."""
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("ITERATIVE_DO_NOT_TRACK", "do-not-track")
    monkeypatch.setenv("DVC_STUDIO_OFFLINE", "true")
    for name in ("DVC_SITE_CACHE_DIR", "DVC_GLOBAL_CONFIG_DIR", "DVC_SYSTEM_CONFIG_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "dvc-home" / name.lower()))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (tmp_path / "gitconfig").write_text("[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def new_dvc_repo(root: Path) -> None:
    root.mkdir(parents=True)
    git(root, "init", "-q")
    DvcRepo.init(str(root)).close()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "dvc init")


@dataclass(frozen=True)
class DvcHistory:
    root: Path
    v1: str
    v2: str
    part1_v1: pa.Table


@pytest.fixture
def dvc_history(tmp_path: Path, make_table: Callable[..., pa.Table]) -> DvcHistory:
    """``data/web`` tracked by DVC in two git commits: v1, then a filter of part-1."""
    root = tmp_path / "dvc-project"
    new_dvc_repo(root)
    part1 = make_table(rows=300, seed=1)
    write_table(root, "data/web/part-0.parquet", make_table(rows=300, seed=0))
    write_table(root, "data/web/part-1.parquet", part1)
    with DvcRepo(str(root)) as dvc:
        dvc.add(str(root / "data/web"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    v1 = git(root, "rev-parse", "HEAD")
    write_table(root, "data/web/part-1.parquet", part1.slice(0, 200))
    with DvcRepo(str(root)) as dvc:
        dvc.add(str(root / "data/web"))
    git(root, "commit", "-qam", "v2")
    return DvcHistory(root, v1, git(root, "rev-parse", "HEAD"), part1)


def dvc_md5(root: Path, rev: str, dvc_file: str) -> str:
    return str(yaml.safe_load(git(root, "show", f"{rev}:{dvc_file}"))["outs"][0]["md5"])


def test_import_dvc_records_repo_rev_and_md5(repo: Repo, dvc_history: DvcHistory) -> None:
    report = json.loads(cgit("import-dvc", str(dvc_history.root), "data/web", "--rev", dvc_history.v1, "--json", cwd=repo.root).stdout)
    assert report["rev"] == dvc_history.v1 and report["files"] == 2
    assert report["md5"] == dvc_md5(dvc_history.root, dvc_history.v1, "data/web.dvc")
    assert pq.read_table(repo.root / "data/web/part-1.parquet").num_rows == 300
    head = repo.read_commit("HEAD")
    assert head.lineage == (report["lineage"],)
    record = read_record(repo.store, head.lineage[0])
    assert record.operator.name == "import-dvc"
    assert record.config == {"dvc_repo": str(dvc_history.root), "rev": dvc_history.v1, "requested_rev": dvc_history.v1, "path": "data/web", "md5": report["md5"]}
    assert {t.path for t in record.outputs} == {"data/web/part-0.parquet", "data/web/part-1.parquet"}
    assert cgit("fsck", cwd=repo.root).exit_code == 0

    # the next DVC version lands as the next commit, with its own md5
    second = json.loads(cgit("import-dvc", str(dvc_history.root), "data/web", "--json", cwd=repo.root).stdout)
    assert second["rev"] == dvc_history.v2 and second["md5"] == dvc_md5(dvc_history.root, dvc_history.v2, "data/web.dvc")
    assert repo.read_table("HEAD", "data/web/part-1.parquet").read_all().num_rows == 200
    assert repo.read_table("HEAD~1", "data/web/part-1.parquet").read_all().num_rows == 300


def test_export_dvc_writes_a_tracked_directory(repo: Repo, dvc_history: DvcHistory, tmp_path: Path) -> None:
    cgit("import-dvc", str(dvc_history.root), "data/web", "--rev", dvc_history.v1, cwd=repo.root)
    target = tmp_path / "downstream"
    new_dvc_repo(target)
    report = json.loads(cgit("export-dvc", "HEAD", "data/web", str(target), "--json", cwd=repo.root).stdout)
    assert report["dvc_file"] == "data/web.dvc" and report["files"] == 2
    assert "data/web.dvc" in git(target, "diff", "--cached", "--name-only")
    dvc_file = yaml.safe_load((target / "data/web.dvc").read_text())
    assert dvc_file["outs"][0]["md5"] == report["md5"]
    assert dvc_file["meta"]["cgit_commit"] == repo.refs.head_commit()
    assert set(dvc_file["meta"]["cgit_tables"]) == {"data/web/part-0.parquet", "data/web/part-1.parquet"}
    with DvcRepo(str(target)) as dvc:
        assert not dvc.status()  # workspace and cache agree
    exported = pq.read_table(target / "data/web/part-1.parquet")
    assert exported.num_rows == 300
    assert rows(repo, "HEAD", "data/web/part-1.parquet") == rows_of(exported)

    # exporting the same version again changes nothing DVC tracks
    again = json.loads(cgit("export-dvc", "HEAD", "data/web", str(target), "--json", cwd=repo.root).stdout)
    assert again["md5"] == report["md5"]


def rows_of(table: pa.Table) -> list[object]:
    import math

    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in table.to_pylist()]


def test_dvc_bad_input(repo: Repo, dvc_history: DvcHistory, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    line, _ = cgit_fails("import-dvc", str(tmp_path / "plain"), "data/web", code=2, cwd=repo.root)
    assert "is not a DVC repository" in line
    line, _ = cgit_fails("import-dvc", str(dvc_history.root), "data/missing", code=1, cwd=repo.root)
    assert "does not exist" in line
    line, _ = cgit_fails("import-dvc", str(dvc_history.root), "data/web.dvc", code=2, cwd=repo.root)
    assert "not tracked by DVC" in line
    line, _ = cgit_fails("import-dvc", str(dvc_history.root), "data/web", "--rev", "no-such-rev", code=1, cwd=repo.root)
    assert "unknown revision" in line
    (repo.root / "data/web").mkdir(parents=True)
    (repo.root / "data/web/mine.txt").write_text("local work\n")
    line, _ = cgit_fails("import-dvc", str(dvc_history.root), "data/web", code=1, cwd=repo.root)
    assert "would overwrite uncommitted files" in line
    assert os.listdir(repo.root / "data/web") == ["mine.txt"]
