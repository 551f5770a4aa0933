"""Opening and creating repositories; the ``Repo`` facade that the Python API and CLI share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING


from corpusgit.config import FORMAT, ProjectConfig, dump_toml, load_toml
from corpusgit.errors import BadInput, NotARepository
from corpusgit.index import Index, read_index, write_index
from corpusgit.lock import LockFile
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.refs import HEADS, RefStore
from corpusgit.store.atomic import write_atomic
from corpusgit.store.objects import ObjectStore

if TYPE_CHECKING:
    import pyarrow as pa

    from corpusgit.history import LogEntry
    from corpusgit.objects import Commit
    from corpusgit.add import AddResult
    from corpusgit.worktree import Status

CGIT_DIR = ".cgit"
DEFAULT_BRANCH = "main"


class Repo:
    """A work tree and its ``.cgit`` directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.cgit = self.root / CGIT_DIR
        if not (self.cgit / "HEAD").exists():
            raise NotARepository(f"{root} is not a cgit repository", hint="run 'cgit init' first")
        fmt = load_toml(self.cgit / "config.toml").get("format", FORMAT)
        if fmt != FORMAT:
            raise NotARepository(f"{root}: repository format {fmt} is not supported (this cgit reads {FORMAT})", hint="upgrade corpusgit")
        self.store = ObjectStore(self.cgit / "objects", self.cgit / "tmp")
        self.refs = RefStore(self.cgit)

    # -- creation and discovery ----------------------------------------------------------------
    @classmethod
    def init(cls, path: Path | str = ".", branch: str = DEFAULT_BRANCH) -> Repo:
        """Create an empty repository (idempotent on an existing one)."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        cgit = root / CGIT_DIR
        if (cgit / "HEAD").exists():
            return cls(root)
        for sub in ("objects", "refs/heads", "refs/tags", "logs", "tmp"):
            (cgit / sub).mkdir(parents=True, exist_ok=True)
        write_atomic(cgit / "config.toml", dump_toml({"format": FORMAT}).encode())
        write_atomic(cgit / "HEAD", f"ref: {HEADS}{branch}\n".encode())
        return cls(root)

    @classmethod
    def open(cls, path: Path | str = ".") -> Repo:
        """Find the repository containing ``path`` (searching upwards, like git)."""
        start = Path(path).resolve()
        for candidate in (start, *start.parents):
            if (candidate / CGIT_DIR / "HEAD").exists():
                return cls(candidate)
        raise NotARepository(f"not a cgit repository (or any parent): {start}", hint="run 'cgit init' to create one here")

    # -- shared state ----------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.cgit / "config.toml"

    def project(self) -> ProjectConfig:
        return ProjectConfig.load(self.root)

    def read_index(self) -> Index:
        return read_index(self.cgit / "index")

    @contextmanager
    def locked_index(self) -> Iterator[tuple[Index, LockFile]]:
        """The index under its lock; callers persist with ``write_index(lock, index)``."""
        lock = LockFile(self.cgit / "index").acquire()
        try:
            yield self.read_index(), lock
        finally:
            lock.release()

    def save_index(self, lock: LockFile, index: Index) -> None:
        write_index(lock, index)

    def relpath(self, path: Path | str) -> str:
        """Repo-relative POSIX path of a user-supplied path; refuses paths outside the work tree."""
        full = (Path.cwd() / path).resolve() if not Path(path).is_absolute() else Path(path).resolve()
        try:
            rel = full.relative_to(self.root)
        except ValueError:
            raise BadInput(f"{path}: outside the repository at {self.root}", hint="only files inside the work tree can be tracked") from None
        text = rel.as_posix()
        if text.split("/")[0] == CGIT_DIR:
            raise BadInput(f"{path}: inside {CGIT_DIR}/", hint="cgit's own files cannot be tracked")
        return "" if text == "." else text

    # -- verbs (thin wrappers so the Python API mirrors the CLI) ---------------------------------
    def add(self, paths: Sequence[str | Path], progress: Progress = NULL_PROGRESS) -> AddResult:
        from corpusgit.add import add

        return add(self, [str(p) for p in paths], progress)

    def status(self) -> Status:
        from corpusgit.worktree import status

        return status(self)

    def commit(self, message: str, allow_empty: bool = False, no_verify: bool = False) -> str:
        from corpusgit.history import commit

        return commit(self, message, allow_empty=allow_empty, no_verify=no_verify).id

    def log(self, rev: str = "HEAD", max_count: int | None = None) -> list[LogEntry]:
        from corpusgit.history import log

        return list(log(self, rev, max_count))

    def read_commit(self, rev: str) -> Commit:
        from corpusgit.objects import read_commit
        from corpusgit.revparse import resolve_commit

        return read_commit(self.store, resolve_commit(self, rev))

    def checkout(self, rev: str, force: bool = False, progress: Progress = NULL_PROGRESS) -> None:
        from corpusgit.checkout import checkout

        checkout(self, rev, force=force, progress=progress)

    def read_table(self, rev: str, path: str, columns: Sequence[str] | None = None, with_row_hash: bool = False) -> pa.RecordBatchReader:
        """Stream a table at any revision without checking it out."""
        from corpusgit.revparse import resolve_table
        from corpusgit.table.reader import read_table

        table = resolve_table(self, rev, path)
        return read_table(self.store, table, columns, with_row_hash, needed_by=f"{rev}:{path}")
