"""Settings: ``.cgit/config.toml`` (this clone), the user's config, and ``cgit.toml`` (versioned
with the data: key columns per table and other project rules)."""

from __future__ import annotations

import fnmatch
import getpass
import os
import socket
import sys
from pathlib import Path
from typing import Any

from corpusgit.errors import BadInput
from corpusgit.objects import Author
from corpusgit.store.atomic import write_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FORMAT = 1  # on-disk format version; bumped when the storage layout changes
PROJECT_FILE = "cgit.toml"


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cgit" / "config.toml"


def load_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: invalid TOML ({exc})", hint="fix the file's syntax") from exc


def dump_toml(doc: dict[str, Any]) -> str:
    """Serialise the flat two-level tables our config files use."""
    lines: list[str] = []
    for key, value in doc.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def set_value(path: Path, dotted: str, value: str) -> None:
    """``cgit config section.key value``."""
    if "." not in dotted:
        raise BadInput(f"config key '{dotted}' needs a section", hint="for example: cgit config user.name 'Ada Lovelace'")
    section, key = dotted.split(".", 1)
    doc = load_toml(path)
    doc.setdefault(section, {})[key] = value
    write_atomic(path, dump_toml(doc).encode("utf-8"))


def get_value(paths: list[Path], dotted: str) -> str | None:
    section, _, key = dotted.partition(".")
    for path in paths:
        value = load_toml(path).get(section, {}).get(key)
        if value is not None:
            return str(value)
    return None


def resolve_author(repo_config: Path) -> tuple[Author, str | None]:
    """The commit author and, when we had to guess, a warning that says how to set it."""
    paths = [repo_config, user_config_path()]
    name = os.environ.get("CGIT_AUTHOR_NAME") or get_value(paths, "user.name")
    email = os.environ.get("CGIT_AUTHOR_EMAIL") or get_value(paths, "user.email")
    if name and email:
        return Author(name, email), None
    user = _login_name()
    host = socket.gethostname() or "localhost"
    author = Author(name or user, email or f"{user}@{host}")
    warning = (
        f"no author configured; committing as {author.name} <{author.email}>. "
        "Set it with: cgit config --global user.name 'Your Name' && cgit config --global user.email you@example.com"
    )
    return author, warning


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class ProjectConfig:
    """``cgit.toml``: per-table settings matched by glob (``[tables."data/sft/*"] key = ["id"]``)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    @classmethod
    def load(cls, root: Path) -> ProjectConfig:
        return cls(load_toml(root / PROJECT_FILE))

    def table_settings(self, path: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for pattern, settings in self.doc.get("tables", {}).items():
            if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.rstrip("/") + "/*"):
                merged.update(settings)
        return merged

    def table_key(self, path: str) -> tuple[str, ...]:
        key = self.table_settings(path).get("key", [])
        if isinstance(key, str):
            key = [key]
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            raise BadInput(f"{PROJECT_FILE}: key for {path} must be a list of column names", hint='e.g. key = ["id"]')
        return tuple(key)

    def table_suffixes(self) -> tuple[str, ...]:
        return tuple(self.doc.get("core", {}).get("table_suffixes", [".parquet", ".pq"]))
