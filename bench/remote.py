"""Push and clone throughput to S3, next to a plain parallel copy of the same object files.

Why: a remote is only usable for corpora if moving a version costs about what copying its files
costs. The baseline is what `aws s3 sync` does: upload (then download) every object file of the
repository with the same number of parallel requests, no checks. cgit additionally asks the
remote which objects it has, verifies each received object and moves refs by compare-and-swap.
Without --endpoint-url a moto S3 server is started on 127.0.0.1 (both sides then share its
speed); with it, any S3-compatible store is measured (credentials from the AWS environment).
Both sides are timed as fresh processes, start-up included.

Run: python bench/remote.py [--quick | --mb N] [--endpoint-url URL] [--jobs N] [--json results.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from edits import REPORT_WIDTH, BenchError, Cgit, cgit_command
from rich.console import Console
from rich.table import Table

from corpusgit import demo

DEFAULT_MB = 200
QUICK_MB = 20
SHARDS = 16
TARGET_RATIO = 2.0  # cgit may take at most twice the plain copy: existence checks and verification


@dataclass(frozen=True, slots=True)
class Timing:
    operation: str
    seconds: float
    bytes: int
    plain_seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.plain_seconds if self.plain_seconds else float("inf")


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise BenchError("moto did not start (pip install 'moto[server]')")


def plain_copy(direction: str, endpoint: str, bucket: str, prefix: str, local: Path, jobs: int) -> None:
    """The baseline, run in its own interpreter as `aws s3 sync` would be: every file, no checks."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    if direction == "up":
        files = [p for p in local.rglob("*") if p.is_file()]
        work = [(str(p), f"{prefix}/{p.relative_to(local).as_posix()}") for p in files]
        action = lambda pair: client.upload_file(pair[0], bucket, pair[1])  # noqa: E731
    else:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        keys = [k["Key"] for page in pages for k in page.get("Contents", [])]
        for key in keys:
            (local / key).parent.mkdir(parents=True, exist_ok=True)
        work = [(str(local / key), key) for key in keys]
        action = lambda pair: client.download_file(bucket, pair[1], pair[0])  # noqa: E731
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(action, work))


def timed_plain_copy(direction: str, endpoint: str, bucket: str, prefix: str, local: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--plain-copy", direction, endpoint, bucket, prefix, str(local), str(jobs)], check=True)
    return time.perf_counter() - start


def measure(work: Path, mb: int, endpoint: str, jobs: int, console: Console) -> list[Timing]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"cgit-bench-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    tree = work / "tree"
    demo.write_corpus(tree / "data", mb << 20, SHARDS)
    cgit = Cgit(tree, tuple(cgit_command()))
    cgit.run("init")
    cgit.add_commit("v0")
    objects = tree / ".cgit" / "objects"
    stored = sum(p.stat().st_size for p in objects.rglob("*") if p.is_file())
    console.print(f"{mb} MB of Parquet -> {stored / 2**20:.1f} MiB of objects; endpoint {endpoint}, {jobs} parallel requests")
    cgit.run("remote", "add", "origin", f"s3://{bucket}/cgit", "--endpoint-url", endpoint)
    _, push_seconds = cgit.run("push", "-q", "--jobs", str(jobs))
    plain_up = timed_plain_copy("up", endpoint, bucket, "plain", objects, jobs)
    clone = Cgit(work, tuple(cgit_command()))
    _, clone_seconds = clone.run("clone", "-q", "--no-checkout", "--jobs", str(jobs), f"s3://{bucket}/cgit", "clone", "--endpoint-url", endpoint)
    plain_down = timed_plain_copy("down", endpoint, bucket, "plain", work / "plain", jobs)
    return [Timing("push", push_seconds, stored, plain_up), Timing("clone (no checkout)", clone_seconds, stored, plain_down)]


def render(timings: list[Timing], console: Console) -> bool:
    table = Table(title="remote throughput vs a plain parallel copy of the same files")
    for column in ("operation", "cgit s", "cgit MiB/s", "plain s", "plain MiB/s", "ratio", "target", "pass/fail"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for t in timings:
        mib = t.bytes / 2**20
        table.add_row(t.operation, f"{t.seconds:.2f}", f"{mib / t.seconds:.1f}", f"{t.plain_seconds:.2f}", f"{mib / t.plain_seconds:.1f}",
                      f"{t.ratio:.2f}x", f"<= {TARGET_RATIO}x", "pass" if t.ratio <= TARGET_RATIO else "FAIL")
    console.print(table)
    return all(t.ratio <= TARGET_RATIO for t in timings)


def main() -> int:
    """Run the benchmark; exit 1 when a target is missed."""
    if sys.argv[1:2] == ["--plain-copy"]:  # the baseline's own process (see timed_plain_copy)
        direction, endpoint, bucket, prefix, local, jobs = sys.argv[2:8]
        plain_copy(direction, endpoint, bucket, prefix, Path(local), int(jobs))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=DEFAULT_MB)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MB} MB instead")
    parser.add_argument("--endpoint-url", help="an S3-compatible endpoint (default: moto on 127.0.0.1)")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory for inspection")
    args = parser.parse_args()
    console = Console(markup=False, width=None if sys.stdout.isatty() else REPORT_WIDTH)
    work = Path(tempfile.mkdtemp(prefix="cgit-bench-remote-"))
    server = None
    try:
        endpoint = args.endpoint_url
        if endpoint is None:
            server, endpoint = start_moto()
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
            os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        timings = measure(work, QUICK_MB if args.quick else args.mb, endpoint, args.jobs, console)
    except BenchError as error:
        console.print(f"error: {error}", style="red")
        return 2
    finally:
        if server is not None:
            server.kill()
            server.wait()
        if args.keep:
            console.print(f"work directory kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    passed = render(timings, console)
    if args.json:
        args.json.write_text(json.dumps([asdict(t) | {"ratio": t.ratio} for t in timings], indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
