"""Remote URLs: a local (or NFS) path, ``file://PATH`` or ``s3://BUCKET/PREFIX``.

Parsing happens once, when a remote is added or a clone starts, so a typo is refused before
anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from corpusgit.errors import BadInput

DIR, S3 = "dir", "s3"
SUPPORTED = "a local or NFS path, file:///PATH, s3://BUCKET/PREFIX (lakeFS: its S3 gateway with --endpoint-url)"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3 bucket naming rules


@dataclass(frozen=True, slots=True)
class RemoteUrl:
    """Where a remote lives; ``text`` is the canonical spelling stored in the config."""

    scheme: str
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def text(self) -> str:
        if self.scheme == S3:
            return f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return str(self.path)

    @property
    def default_dir_name(self) -> str:
        """What ``cgit clone URL`` calls the new directory, as git does."""
        last = (self.prefix or self.bucket) if self.scheme == S3 else str(self.path)
        name = last.rstrip("/").rsplit("/", 1)[-1]
        return name[:-5] if name.endswith(".cgit") and len(name) > 5 else name


def parse_url(text: str, base: Path | None = None) -> RemoteUrl:
    """Parse a remote URL; relative paths are made absolute against ``base`` (default: cwd)."""
    match = _SCHEME.match(text)
    if match is None:
        if not text.strip():
            raise BadInput("empty remote URL", hint=f"use {SUPPORTED}")
        return RemoteUrl(DIR, path=((base or Path.cwd()) / text).resolve())
    scheme = match.group(1).lower()
    rest = text[match.end():]
    if scheme == "file":
        if not rest.startswith("/"):
            raise BadInput(f"'{text}' is not an absolute file URL", hint="write file:///absolute/path")
        return RemoteUrl(DIR, path=Path(rest).resolve())
    if scheme == "s3":
        bucket, _, prefix = rest.partition("/")
        if not _BUCKET.match(bucket):
            raise BadInput(f"'{text}': '{bucket}' is not a valid bucket name", hint="write s3://BUCKET/PREFIX")
        return RemoteUrl(S3, bucket=bucket, prefix=prefix.strip("/"))
    raise BadInput(f"unsupported remote URL scheme '{scheme}://'", hint=f"supported: {SUPPORTED}")
