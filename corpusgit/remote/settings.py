"""Remotes as settings in ``.cgit/config.toml``: one ``[remote-NAME]`` section per remote.

A section per remote (rather than ``[remote.NAME]``) keeps the file within the two-level tables
that ``corpusgit.config`` reads and writes, so ``cgit config remote-origin.url ...`` works too.
A partial clone records its promisor in ``[partial]``; the object store reads it when a chunk
is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpusgit.config import dump_toml, load_toml
from corpusgit.errors import BadInput
from corpusgit.lock import LockFile
from corpusgit.refs import REMOTES
from corpusgit.remote.backend import Backend, open_backend
from corpusgit.remote.url import parse_url

if TYPE_CHECKING:
    from corpusgit.repo import Repo

SECTION_PREFIX = "remote-"
PARTIAL_SECTION = "partial"
REMOTES_REFS = REMOTES  # remote-tracking branches, refs/remotes/NAME/BRANCH
METADATA_FILTER = "metadata"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # a TOML bare key, and a path component


@dataclass(frozen=True, slots=True)
class RemoteConfig:
    name: str
    url: str
    endpoint: str | None = None
    cas: str | None = None  # "conditional" or "lease" once probed (S3 only)


def check_remote_name(name: str) -> None:
    if not _NAME.match(name):
        raise BadInput(f"'{name}' is not a valid remote name", hint="use letters, digits, '-' and '_' (for example: origin)")


def update_config(cgit_dir: Path, change: Any) -> None:
    """Read-modify-write the config under its lock, so concurrent writers never lose an edit."""
    path = cgit_dir / "config.toml"
    with LockFile(path) as lock:
        doc = load_toml(path)
        change(doc)
        lock.commit(dump_toml(doc).encode("utf-8"))


def list_remotes(repo: Repo) -> list[RemoteConfig]:
    doc = load_toml(repo.config_path)
    out = []
    for section, values in doc.items():
        if section.startswith(SECTION_PREFIX) and isinstance(values, dict) and "url" in values:
            out.append(_from_section(section[len(SECTION_PREFIX):], values))
    return sorted(out, key=lambda r: r.name)


def _from_section(name: str, values: dict[str, Any]) -> RemoteConfig:
    endpoint = values.get("endpoint")
    cas = values.get("cas")
    return RemoteConfig(name, str(values["url"]), str(endpoint) if endpoint else None, str(cas) if cas else None)


def get_remote(repo: Repo, name: str) -> RemoteConfig:
    return remote_config(repo.cgit, name)


def remote_config(cgit_dir: Path, name: str) -> RemoteConfig:
    """A remote's settings, read from the repository at ``cgit_dir``."""
    check_remote_name(name)
    doc = load_toml(cgit_dir / "config.toml")
    values = doc.get(SECTION_PREFIX + name)
    if not isinstance(values, dict) or "url" not in values:
        known = ", ".join(sorted(k[len(SECTION_PREFIX):] for k in doc if k.startswith(SECTION_PREFIX)))
        raise BadInput(f"no remote named '{name}'", hint=f"known remotes: {known}" if known else "add one with 'cgit remote add NAME URL'")
    return _from_section(name, values)


def add_remote(repo: Repo, name: str, url: str, endpoint: str | None = None) -> RemoteConfig:
    """Record a remote; the URL is parsed (and a relative path made absolute) before saving."""
    check_remote_name(name)
    parsed = parse_url(url)
    if any(r.name == name for r in list_remotes(repo)):
        raise BadInput(f"remote '{name}' already exists", hint=f"remove it first with 'cgit remote remove {name}'")
    values: dict[str, Any] = {"url": parsed.text}
    if endpoint:
        values["endpoint"] = endpoint
    update_config(repo.cgit, lambda doc: doc.__setitem__(SECTION_PREFIX + name, values))
    return _from_section(name, values)


def set_remote_value(repo: Repo, name: str, key: str, value: str) -> None:
    update_config(repo.cgit, lambda doc: doc.setdefault(SECTION_PREFIX + name, {}).__setitem__(key, value))


def remove_remote(repo: Repo, name: str) -> None:
    """Forget a remote and its remote-tracking refs; the objects stay until ``gc``."""
    get_remote(repo, name)
    if partial_remote(repo.cgit) == name:
        raise BadInput(f"'{name}' serves this partial clone's missing chunks", hint="keep it, or fetch everything first")
    prefix = f"{REMOTES_REFS}{name}/"
    for branch, oid in repo.refs.list_refs(prefix).items():
        repo.refs.update(prefix + branch, None, oid, f"remote remove {name}")
    update_config(repo.cgit, lambda doc: doc.pop(SECTION_PREFIX + name, None))


def mark_partial(repo: Repo, name: str) -> None:
    update_config(repo.cgit, lambda doc: doc.__setitem__(PARTIAL_SECTION, {"remote": name, "filter": METADATA_FILTER}))


def partial_remote(cgit_dir: Path) -> str | None:
    """The remote that promises this clone's missing chunks, or None for a full clone."""
    section = load_toml(cgit_dir / "config.toml").get(PARTIAL_SECTION)
    name = section.get("remote") if isinstance(section, dict) else None
    return str(name) if name else None


def open_remote(cgit_dir: Path, name: str, jobs: int = 8) -> tuple[RemoteConfig, Backend]:
    """A remote's settings and a backend ready to use them."""
    config = remote_config(cgit_dir, name)
    backend = open_backend(parse_url(config.url), config.endpoint, jobs)
    if config.cas:
        backend.set_cas_mode(config.cas)
    return config, backend
