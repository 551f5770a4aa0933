"""DVC bridge (``corpusgit[dvc]``): import a DVC-tracked directory at a git revision of a DVC
repository, and export a cgit version into a DVC repository as a DVC-tracked directory.

An import is one commit whose lineage record names the DVC repository, the resolved git commit
and the DVC md5 of the directory, so ``cgit lineage`` can say exactly where the rows came from.
An export records the cgit commit and table ids in the ``.dvc`` file's ``meta``, the field DVC
keeps for user annotations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import corpusgit
from corpusgit.bridges.materialise import select, write_files
from corpusgit.errors import BadInput, CorpusGitError, DirtyWorkTree, RevisionNotFound
from corpusgit.history import commit
from corpusgit.lineage.record import LineageRecord, OperatorRef, TableRef, environment, write_record
from corpusgit.objects import TABLE, check_tree_path
from corpusgit.store.atomic import write_via
from corpusgit.store.canonical import ObjectId, canonical_json, object_id
from corpusgit.worktree import status, under

if TYPE_CHECKING:
    from corpusgit.repo import Repo

INSTALL_HINT = "install the DVC extra: pip install 'corpusgit[dvc]'"
OPERATOR = "import-dvc"


@dataclass(frozen=True, slots=True)
class DvcImport:
    commit: ObjectId
    lineage: ObjectId
    dvc_repo: str
    rev: str
    md5: str
    path: str
    files: int


@dataclass(frozen=True, slots=True)
class DvcExport:
    commit: ObjectId
    path: str
    dvc_file: str
    md5: str
    files: int


def _open(dvc_repo: Path) -> Any:
    try:
        from dvc.exceptions import NotDvcRepoError
        from dvc.repo import Repo as DvcRepo
    except ImportError:
        raise CorpusGitError("the DVC bridge needs the dvc package, which is not installed", hint=INSTALL_HINT) from None
    try:
        return DvcRepo(str(dvc_repo))
    except NotDvcRepoError:
        raise BadInput(f"{dvc_repo} is not a DVC repository", hint="run 'git init && dvc init' there first") from None


def import_dvc(repo: Repo, dvc_repo: str | Path, path: str, rev: str | None = None, dest: str | None = None) -> DvcImport:
    """Copy ``path`` as DVC tracked it at git revision ``rev`` into the work tree and commit it."""
    started = dt.datetime.now(dt.timezone.utc)
    source = Path(dvc_repo).resolve()
    with _open(source) as dvc:
        from dvc.api import DVCFileSystem
        from scmrepo.exceptions import RevError

        try:
            sha = str(dvc.scm.resolve_rev(rev or "HEAD"))
        except RevError:
            raise RevisionNotFound(f"unknown revision '{rev}' in {source}", hint="use a git branch, tag or commit of the DVC repository") from None
    fs = DVCFileSystem(str(source), rev=sha)
    path = path.strip("/")
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise RevisionNotFound(f"'{path}' does not exist in {source} at {sha[:12]}", hint="check the path (relative to the DVC repository root)") from None
    dvc_info = info.get("dvc_info") or {}
    md5 = info.get("md5") or dvc_info.get("md5")
    if not dvc_info.get("isdvc") or not md5:
        raise BadInput(f"'{path}' is not tracked by DVC at {sha[:12]}", hint="import a path that has a .dvc file (dvc add)")
    rel = check_tree_path(repo.relpath(repo.root / (dest or path)))
    _require_clean(repo, rel)
    target = repo.root / rel
    sources = [path] if info["type"] == "file" else sorted(fs.find(path, detail=False))
    written = set()
    for src in sources:
        dst = target if src == path else target / posixpath.relpath(src, path)
        write_via(dst, lambda tmp: fs.get_file(src, str(tmp)))
        written.add(dst)
    if target.is_dir():
        for stale in [p for p in target.rglob("*") if p.is_file() and p not in written]:
            stale.unlink()
    repo.add([target])
    record = _record(repo, rel, {"dvc_repo": str(source), "rev": sha, "requested_rev": rev or "HEAD", "path": path, "md5": str(md5)}, started)
    lineage = write_record(repo, record)
    done = commit(repo, f"import-dvc: {path} from {source.name}@{sha[:12]} (md5 {md5})", lineage=(lineage,))
    return DvcImport(done.id, lineage, str(source), sha, str(md5), rel, len(sources))


def _require_clean(repo: Repo, rel: str) -> None:
    """The import commit must hold the import and nothing else, and overwrite no local work."""
    st = status(repo)
    if st.staged:
        raise DirtyWorkTree(f"staged changes ({st.staged[0].path}) would go into the import commit", hint="commit them first")
    untracked = [p for p in st.untracked if under(p.rstrip("/"), rel) or under(rel, p.rstrip("/"))]  # "data/" = a whole new dir
    dirty = [c.path for c in st.unstaged if under(c.path, rel)] + untracked
    if dirty:
        raise DirtyWorkTree(f"the import would overwrite uncommitted files: {', '.join(dirty[:5])}", hint="commit or remove them first")


def _record(repo: Repo, rel: str, config: dict[str, str], started: dt.datetime) -> LineageRecord:
    index = repo.read_index()
    outputs = tuple(TableRef(p, e.id, None, e.rows) for p, e in sorted(index.entries.items()) if under(p, rel) and e.kind == TABLE)
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return LineageRecord(
        operator=OperatorRef(OPERATOR, corpusgit.__version__, "import", code, __name__),
        config=config,
        config_hash=object_id(canonical_json(config)),
        inputs=(),
        outputs=outputs,
        effects={},
        rules=(),
        stats={"tables": len(outputs)},
        environment=environment(("dvc",)),
        started=started.isoformat(),
        ended=dt.datetime.now(dt.timezone.utc).isoformat(),
    )


def export_dvc(repo: Repo, rev: str, path: str, dvc_repo: str | Path) -> DvcExport:
    """Write ``path`` at ``rev`` into ``dvc_repo``, ``dvc add`` it and stage the ``.dvc`` file in git."""
    destination = Path(dvc_repo).resolve()
    selection = select(repo, rev, path)
    with _open(destination) as dvc:
        target = destination / selection.path
        dvc_file = target.with_name(target.name + ".dvc")
        if target.exists() and not dvc_file.exists():
            raise BadInput(f"{target} exists and is not tracked by DVC", hint="export to another path, or remove it first")
        if target.is_dir():
            shutil.rmtree(target)
        files = list(write_files(repo, selection, target))
        stage = dvc.add(str(target))[0]
        stage.meta = {"cgit_commit": selection.commit, "cgit_path": selection.path, "cgit_tables": selection.table_ids()}
        stage.dump()
        gitignore = target.parent / ".gitignore"
        dvc.scm.add([str(dvc_file)] + ([str(gitignore)] if gitignore.exists() else []))
        md5 = str(stage.outs[0].hash_info.value)
    return DvcExport(selection.commit, selection.path, str(dvc_file.relative_to(destination)), md5, len(files))
