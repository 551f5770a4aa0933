"""The worker side of bench/tools/base.py's Worker: JSON lines in, JSON lines out.

Why a protocol on a private pipe: the tools print progress to stdout (Oxen's Rust core writes
straight to file descriptor 1), which would corrupt replies. The reply channel is a duplicate
of the original stdout, and fd 1 is pointed at stderr, which the runner logs to a file.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
from digest import rows_digest

Handler = Callable[..., dict[str, Any]]


def timed(action: Callable[[], object], detail: str = "") -> dict[str, Any]:
    """Run action; the reply of an operation the runner times ({"seconds", "detail"})."""
    start = time.perf_counter()
    action()
    return {"seconds": time.perf_counter() - start, "detail": detail}


def serve(handlers: Mapping[str, Handler]) -> None:
    """Answer requests {"op", "args"} until stdin closes; errors become replies, not exits."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"ok": True, "result": handlers[request["op"]](**request["args"])}
        except Exception as error:  # any tool failure is reported to the runner, which records it
            traceback.print_exc()
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")


def serve_table_format(version: str, handlers: Mapping[str, Handler],
                       scan: Callable[[str, int], pa.RecordBatchReader]) -> None:
    """serve() a table format's handlers plus the ones they all share.

    Args:
        version: the tool and version string reported for the results.
        scan: streams every row of a table version (time travel). "read" times reading it
            all; "digest" reads it again for rows_digest, untimed. Neither holds the table.
    """

    def read(uri: str, table_version: int) -> dict[str, Any]:
        return timed(lambda: sum(b.num_rows for b in scan(uri, table_version)))

    def digest(uri: str, table_version: int) -> dict[str, Any]:
        return {"digest": rows_digest(scan(uri, table_version))}

    serve({**handlers, "version": lambda: {"version": version}, "read": read, "digest": digest})
