"""The pre-commit framework (the real ``pre-commit`` tool) runs ``cgit check`` from our
``.pre-commit-hooks.yaml`` on a plain git repository: a bad file blocks the commit, good ones pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from pre_commit.clientlib import load_manifest

MANIFEST = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"
CGIT = Path(sys.executable).parent / "cgit"


def test_manifest_is_valid_for_pre_commit() -> None:
    (hook,) = load_manifest(str(MANIFEST))
    assert (hook["id"], hook["entry"], hook["language"]) == ("cgit-check", "cgit check", "python")
    import re

    files = re.compile(hook["files"])
    assert all(files.search(name) for name in ("data/a.parquet", "b.pq", "c.jsonl", "d.ndjson"))
    assert not files.search("README.md")


def git(repo: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def git_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "plain"
    repo.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
           "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    git(repo, "init", "-q", "-b", "main", env=env)
    (hook,) = load_manifest(str(MANIFEST))
    # The published hook installs corpusgit from its git URL (language: python). Offline, the same
    # hook definition runs the cgit already installed here (language: system).
    local = {k: hook[k] for k in ("id", "name", "files", "require_serial")} | {"entry": f"{CGIT} check", "language": "system"}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    (repo / "cgit.toml").write_text("[hooks.pre-commit.pii]\n[hooks.pre-commit.length]\nmin = 10\n")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, check=True, capture_output=True, timeout=120)
    return repo, env


def test_pre_commit_blocks_a_bad_file_and_passes_good_ones(git_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = git_repo
    pq.write_table(pa.table({"text": ["a perfectly ordinary sentence", "another ordinary sentence"]}), repo / "good.parquet")
    (repo / "good.jsonl").write_text('{"text": "one more ordinary sentence"}\n')
    git(repo, "add", ".", env=env)
    good = git(repo, "commit", "-m", "good data", env=env, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "cgit quality checks" in good.stdout + good.stderr and "Passed" in good.stdout + good.stderr

    pq.write_table(pa.table({"text": ["mail me at someone@example.com", "tiny"]}), repo / "bad.parquet")
    git(repo, "add", "bad.parquet", env=env)
    bad = git(repo, "commit", "-m", "bad data", env=env, check=False)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert "Failed" in output and "error: pre-commit checks failed: pii on bad.parquet, length on bad.parquet" in output
    assert "someone@example.com" not in output  # the report redacts PII
    assert git(repo, "rev-list", "--count", "HEAD", env=env).stdout.strip() == "1"
