"""A remote in S3-compatible object storage, through boto3 (the ``corpusgit[s3]`` extra).

Why boto3 rather than pyarrow's or fsspec's S3 filesystem: ref safety needs conditional writes
(``If-None-Match: *`` to create, ``If-Match: <etag>`` to swap), and neither filesystem exposes
them. One client then serves objects and refs alike, with one set of credentials, timeouts and
error messages. Endpoint, region and credentials come from the standard AWS environment and
config files; ``--endpoint-url`` points at S3-compatible stores (MinIO, Ceph, lakeFS's gateway).

Stores that ignore conditional headers get a lease lock object instead; see docs/remotes.md for
why that is weaker.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpusgit.errors import CorpusGitError, LockHeld, RefConflict
from corpusgit.reach import MIXES
from corpusgit.refs import HEADS, TAGS
from corpusgit.remote.backend import Backend, RefValue, object_key
from corpusgit.remote.errors import RemoteAuthError, RemoteMissing, RemoteUnreachable
from corpusgit.store.canonical import ObjectId

CONNECT_TIMEOUT = 5  # seconds: a dead or firewalled endpoint must fail fast, not hang a job
READ_TIMEOUT = 60  # seconds: one object of tens of MiB over a slow link
MAX_ATTEMPTS = 3  # botocore "standard" retries: rides out throttling and 5xx, gives up on a dead host
MULTIPART_BYTES = 64 << 20  # below this one PUT (atomic and cheapest); above, multipart upload
STREAM_BYTES = 1 << 20  # download block size
LEASE_SECONDS = 30  # a lease lock outlives any single ref update by far
SETTLE_SECONDS = 0.3  # wait before re-reading a lease, so a racing writer's PUT has landed
LOCK_WAIT_SECONDS = 15  # how long to wait for another client's lease before giving up
CONDITIONAL, LEASE = "conditional", "lease"
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
INSTALL_HINT = "install the S3 extra: pip install 'corpusgit[s3]'"
_SESSION_ENV = (  # what a boto3 session reads once and caches: a change needs a new session
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
)
_sessions: dict[tuple[str | None, ...], Any] = {}
_sessions_lock = threading.Lock()


def _boto() -> tuple[Any, Any]:
    try:
        import boto3
        import botocore.config
    except ImportError:
        raise CorpusGitError("s3:// remotes need boto3, which is not installed", hint=INSTALL_HINT) from None
    return boto3, botocore.config


def _new_client(endpoint: str | None, config: Any) -> Any:
    """An S3 client from a session shared per AWS environment: a new session costs ~80 ms of
    model loading, a client from a warm one ~4 ms. Sessions are not thread-safe, hence the lock."""
    boto3, _ = _boto()
    key = tuple(os.environ.get(name) for name in _SESSION_ENV)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = boto3.session.Session()
        return session.client("s3", endpoint_url=endpoint, config=config)


class S3Backend(Backend):
    def __init__(self, bucket: str, prefix: str, endpoint: str | None, jobs: int = 8) -> None:
        _, botocore_config = _boto()
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.display = f"s3://{bucket}/{prefix}".rstrip("/")
        self.cas_mode = CONDITIONAL
        config = botocore_config.Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            max_pool_connections=max(10, 2 * jobs),
            s3={"addressing_style": "path"} if endpoint else None,
        )
        with self._errors("connect"):
            self.client = _new_client(endpoint, config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    # -- error translation ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn botocore failures into one-line errors that name the setting to fix."""
        from botocore import exceptions as bex

        try:
            yield
        except bex.NoCredentialsError:
            raise RemoteAuthError(
                f"no AWS credentials found for {self.display}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE / ~/.aws/credentials)",
            ) from None
        except bex.PartialCredentialsError as exc:
            missing = exc.kwargs.get("cred_var", "a credential")
            raise RemoteAuthError(f"AWS credentials for {self.display} are incomplete: {missing} is missing", hint=f"set {missing}") from None
        except (bex.HTTPClientError, bex.ConnectionError) as exc:
            where = self.endpoint or "the S3 endpoint"
            raise RemoteUnreachable(
                f"cannot reach {where} ({what} {self.display}): {exc}",
                hint="check --endpoint-url / AWS_ENDPOINT_URL, the network and that the service runs; objects that arrived are kept",
            ) from None
        except bex.ClientError as exc:
            raise self._client_error(exc, what) from None
        except bex.BotoCoreError as exc:
            raise CorpusGitError(f"S3 error ({what} {self.display}): {exc}", hint="check the AWS settings and --endpoint-url") from None

    def _client_error(self, exc: Any, what: str) -> CorpusGitError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "InvalidAccessKeyId":
            return RemoteAuthError(f"the endpoint does not know the access key in use for {self.display}", hint="set AWS_ACCESS_KEY_ID (or AWS_PROFILE) to a key this endpoint accepts")
        if code == "SignatureDoesNotMatch":
            return RemoteAuthError(f"the secret key is wrong for {self.display}", hint="set AWS_SECRET_ACCESS_KEY to the secret that belongs to AWS_ACCESS_KEY_ID")
        if code in ("ExpiredToken", "InvalidToken"):
            return RemoteAuthError(f"the session token for {self.display} is expired or invalid", hint="refresh AWS_SESSION_TOKEN (or log in again with your SSO profile)")
        if code == "NoSuchBucket":
            return RemoteMissing(f"bucket '{self.bucket}' does not exist", hint=f"create it first (for example: aws s3 mb s3://{self.bucket})")
        if code == "AccessDenied" or status == 403:
            return RemoteAuthError(f"access denied ({what} {self.display})", hint="the credentials in use (AWS_PROFILE / AWS_ACCESS_KEY_ID) need s3:GetObject, s3:PutObject and s3:ListBucket here")
        message = exc.response.get("Error", {}).get("Message", "")
        return CorpusGitError(f"S3 error {code or status} ({what} {self.display}): {message}", hint="check the bucket, prefix and --endpoint-url")

    @staticmethod
    def _code(exc: Any) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def _get(self, key: str) -> tuple[bytes, str] | None:
        """Bytes and ETag of a small object, or None when absent."""
        from botocore.exceptions import ClientError

        with self._errors(f"reading {key} of"):
            try:
                reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if self._code(exc) in _MISSING_CODES:
                    return None
                raise
            return reply["Body"].read(), str(reply["ETag"])

    # -- objects ------------------------------------------------------------------------------
    def has_object(self, oid: str) -> bool:
        from botocore.exceptions import ClientError

        with self._errors("checking objects of"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(object_key(oid)))
            except ClientError as exc:
                if self._code(exc) in _MISSING_CODES:
                    return False
                raise
        return True

    def download_object(self, oid: str, dest: Path) -> bool:
        from botocore.exceptions import ClientError

        with self._errors("downloading from"):
            try:
                reply = self.client.get_object(Bucket=self.bucket, Key=self._key(object_key(oid)))
            except ClientError as exc:
                if self._code(exc) in _MISSING_CODES:
                    return False
                raise
            with open(dest, "wb") as handle:
                for block in reply["Body"].iter_chunks(STREAM_BYTES):
                    handle.write(block)
        return True

    def upload_object(self, src: Path, oid: str) -> None:
        key = self._key(object_key(oid))
        with self._errors("uploading to"):
            if src.stat().st_size <= MULTIPART_BYTES:
                with open(src, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
                return
            from boto3.s3.transfer import TransferConfig

            config = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES, use_threads=False)
            self.client.upload_file(str(src), self.bucket, key, Config=config)

    # -- small files ----------------------------------------------------------------------------
    def read_file(self, key: str) -> bytes | None:
        found = self._get(key)
        return found[0] if found else None

    def write_file(self, key: str, data: bytes) -> None:
        with self._errors(f"writing {key} of"):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def is_empty(self) -> bool:
        with self._errors("listing"):
            reply = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(""), MaxKeys=1)
        return int(reply.get("KeyCount", 0)) == 0

    # -- refs -----------------------------------------------------------------------------------
    def list_refs(self) -> dict[str, ObjectId]:
        names: list[str] = []
        with self._errors("listing refs of"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key("refs/"))
            for page in pages:
                for item in page.get("Contents", []):
                    name = str(item["Key"])[len(self._key("")):]
                    if name.startswith((HEADS, TAGS, MIXES)) and not name.endswith(".lock"):
                        names.append(name)
        out: dict[str, ObjectId] = {}
        for name in sorted(names):
            value = self.read_ref(name).value
            if value:
                out[name] = value
        return out

    def read_ref(self, name: str) -> RefValue:
        found = self._get(name)
        if found is None:
            return RefValue(None, None)
        text = found[0].decode("utf-8", "replace").strip()
        return RefValue(ObjectId(text) if text else None, found[1])

    def update_ref(self, name: str, new: str, old: RefValue, message: str) -> None:
        if self.cas_mode == LEASE:
            self._with_lease(name, lambda: self._swap_under_lease(name, new, old))
            return
        condition = {"IfMatch": old.token} if old.token else {"IfNoneMatch": "*"}
        self._put_conditional(name, f"{new}\n".encode(), condition)

    def _put_conditional(self, key: str, data: bytes, condition: dict[str, str]) -> None:
        from botocore.exceptions import ClientError

        with self._errors(f"updating {key} of"):
            try:
                self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **condition)
            except ClientError as exc:
                if self._code(exc) in _CONFLICT_CODES:
                    raise RefConflict(f"{key} on {self.display} moved while this command ran", hint="fetch, merge, and push again") from None
                raise

    def set_cas_mode(self, mode: str) -> None:
        self.cas_mode = LEASE if mode == LEASE else CONDITIONAL

    def probe_cas(self) -> str:
        """``conditional`` if the store enforces If-None-Match, else ``lease``.

        Some S3-compatible stores silently ignore the header, which would make a swap a blind
        overwrite; writing the same probe twice tells the two apart.
        """
        from botocore.exceptions import ClientError

        key = f"tmp/cas-probe-{uuid.uuid4().hex}"
        mode = LEASE
        with self._errors("probing"):
            try:
                for _ in range(2):
                    self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=b"probe", IfNoneMatch="*")
            except ClientError as exc:
                if self._code(exc) in ("PreconditionFailed", "412"):
                    mode = CONDITIONAL
                elif self._code(exc) not in ("NotImplemented", "501", "InvalidArgument"):
                    raise
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        return mode

    # -- lease lock (stores without conditional writes) --------------------------------------------
    def _swap_under_lease(self, name: str, new: str, old: RefValue) -> None:
        current = self.read_ref(name)
        if current.value != old.value:
            raise RefConflict(f"{name} on {self.display} moved while this command ran", hint="fetch, merge, and push again")
        self.write_file(name, f"{new}\n".encode())

    def _with_lease(self, name: str, action: Callable[[], None]) -> None:
        lock = f"{name}.lock"
        token = f"{uuid.uuid4().hex} {socket.gethostname()}"
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            held = self._lease(lock)
            if held is None or held[1] < time.time():
                self.write_file(lock, json.dumps({"owner": token, "expires": time.time() + LEASE_SECONDS}).encode())
                time.sleep(SETTLE_SECONDS)
                again = self._lease(lock)
                if again is not None and again[0] == token:
                    break
            if time.monotonic() > deadline:
                raise LockHeld(f"{name} on {self.display} is locked by another client", hint=f"wait and retry; a crashed client's lease expires after {LEASE_SECONDS} s")
            time.sleep(SETTLE_SECONDS)
        try:
            action()
        finally:
            mine = self._lease(lock)
            if mine is not None and mine[0] == token:
                with self._errors("unlocking"):
                    self.client.delete_object(Bucket=self.bucket, Key=self._key(lock))

    def _lease(self, key: str) -> tuple[str, float] | None:
        found = self._get(key)
        if found is None:
            return None
        try:
            doc = json.loads(found[0])
            return str(doc["owner"]), float(doc["expires"])
        except (ValueError, KeyError, TypeError):
            return "unreadable", 0.0

    def close(self) -> None:
        self.client.close()
