"""lakeFS bridge (``corpusgit[lakefs]``, the ``lakefs`` SDK): publish a materialised version to
a lakeFS branch.

The lakeFS commit's metadata carries the cgit commit id, the table ids and the lineage ids, so a
reader of the lakeFS branch can get back to the exact cgit version and how it was made. The
target prefix mirrors the version: files the version does not have are deleted there.
Endpoint and credentials: ``--endpoint-url`` or ``LAKEFS_ENDPOINT``, ``LAKEFS_ACCESS_KEY_ID`` and
``LAKEFS_SECRET_ACCESS_KEY``; otherwise the SDK's own ``LAKECTL_*`` variables and ``~/.lakectl.yaml``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from corpusgit.bridges.materialise import select, write_files
from corpusgit.errors import BadInput, CorpusGitError
from corpusgit.objects import read_commit
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.remote.errors import RemoteAuthError, RemoteMissing, RemoteUnreachable

if TYPE_CHECKING:
    from corpusgit.repo import Repo

INSTALL_HINT = "install the lakeFS extra: pip install 'corpusgit[lakefs]'"
CREDENTIALS_HINT = "set LAKEFS_ACCESS_KEY_ID and LAKEFS_SECRET_ACCESS_KEY (or LAKECTL_CREDENTIALS_* / ~/.lakectl.yaml)"
_URL = re.compile(r"^lakefs://([a-z0-9][a-z0-9-]{2,62})/([\w.-]+)(?:/(.*))?$")


@dataclass(frozen=True, slots=True)
class LakefsExport:
    commit: str
    lakefs_commit: str
    repository: str
    branch: str
    path: str
    files: int
    deleted: int
    metadata: dict[str, str]


def parse_lakefs_url(url: str) -> tuple[str, str, str]:
    """``lakefs://REPO/BRANCH/PATH`` -> (repository, branch, path prefix)."""
    match = _URL.match(url)
    if match is None:
        raise BadInput(f"'{url}' is not a lakeFS URL", hint="write lakefs://REPOSITORY/BRANCH/PATH")
    return match.group(1), match.group(2), (match.group(3) or "").strip("/")


def commit_metadata(repo: Repo, commit_id: str, tables: dict[str, str]) -> dict[str, str]:
    """lakeFS metadata values are strings: ids as they are, the table map as JSON."""
    lineage = read_commit(repo.store, commit_id).lineage
    return {"cgit_commit": commit_id, "cgit_tables": json.dumps(tables, sort_keys=True), "cgit_lineage": ",".join(lineage)}


def export_lakefs(repo: Repo, rev: str, url: str, path: str = "", endpoint: str | None = None, progress: Progress = NULL_PROGRESS) -> LakefsExport:
    """Write ``path`` (default: everything) at ``rev`` under the URL's prefix and commit it."""
    repository, branch_name, prefix = parse_lakefs_url(url)
    selection = select(repo, rev, path)
    metadata = commit_metadata(repo, selection.commit, selection.table_ids())
    subject = read_commit(repo.store, selection.commit).subject
    with _errors(url), tempfile.TemporaryDirectory(dir=repo.store.tmp_root if repo.store.tmp_root.exists() else None) as tmp:
        branch = _client_branch(repository, branch_name, endpoint)
        names: set[str] = set()
        with progress.task(f"publishing to {url}", len(selection.entries)) as task:
            for local in write_files(repo, selection, Path(tmp) / "out"):
                rel = local.relative_to(Path(tmp) / "out").as_posix() if local != Path(tmp) / "out" else Path(selection.path).name
                key = f"{prefix}/{rel}" if prefix else rel
                with open(local, "rb") as source, branch.object(key).writer(mode="wb") as sink:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        sink.write(block)
                local.unlink()
                names.add(key)
                task.advance()
        stale = [o.path for o in branch.objects(prefix=f"{prefix}/" if prefix else "") if o.path not in names]
        if stale:
            branch.delete_objects(stale)
        ref = branch.commit(message=f"cgit export {selection.commit[:12]}: {subject}", metadata=metadata)
        lakefs_commit = str(ref.get_commit().id)
    return LakefsExport(selection.commit, lakefs_commit, repository, branch_name, prefix, len(names), len(stale), metadata)


def _client_branch(repository: str, branch: str, endpoint: str | None) -> Any:
    try:
        import lakefs
        from lakefs.client import Client
    except ImportError:
        raise CorpusGitError("the lakeFS bridge needs the lakefs package, which is not installed", hint=INSTALL_HINT) from None
    options: dict[str, str] = {}
    host = endpoint or os.environ.get("LAKEFS_ENDPOINT")
    if host:
        options["host"] = host
    key, secret = os.environ.get("LAKEFS_ACCESS_KEY_ID"), os.environ.get("LAKEFS_SECRET_ACCESS_KEY")
    if key and secret:
        options.update(username=key, password=secret)
    factory: Any = Client  # the SDK is untyped
    client = factory(**options)
    if not urlparse(str(getattr(client.config, "host", "") or "")).hostname:  # the SDK's default is "http:///api/v1"
        raise BadInput("no lakeFS endpoint configured", hint="pass --endpoint-url or set LAKEFS_ENDPOINT (e.g. http://lakefs:8000)")
    return lakefs.repository(repository, client=client).branch(branch)


@contextmanager
def _errors(url: str) -> Iterator[None]:
    """SDK and network failures as one-line errors naming what to check."""
    try:
        from lakefs import exceptions as lex
        from urllib3.exceptions import HTTPError
    except ImportError:
        raise CorpusGitError("the lakeFS bridge needs the lakefs package, which is not installed", hint=INSTALL_HINT) from None
    try:
        yield
    except lex.NoAuthenticationFound:
        raise RemoteAuthError(f"no lakeFS credentials for {url}", hint=CREDENTIALS_HINT) from None
    except (lex.NotAuthorizedException, lex.ForbiddenException) as exc:
        raise RemoteAuthError(f"lakeFS refused the credentials for {url}: {exc}", hint=CREDENTIALS_HINT) from None
    except lex.NotFoundException:
        raise RemoteMissing(f"{url}: repository or branch not found", hint="create them in lakeFS first (lakectl repo create / branch create)") from None
    except lex.LakeFSException as exc:
        raise CorpusGitError(f"lakeFS error for {url}: {exc}", hint="check the endpoint, repository and branch") from None
    except (HTTPError, ConnectionError) as exc:
        raise RemoteUnreachable(f"cannot reach lakeFS for {url}: {exc}", hint="check --endpoint-url / LAKEFS_ENDPOINT and that lakeFS runs") from None
