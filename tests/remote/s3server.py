"""Run moto's S3 server on 127.0.0.1:PORT for the remote tests: ``python s3server.py PORT``.

Why not plain ``python -m moto.server``: moto checks ``If-Match``/``If-None-Match`` and then
writes in two steps without a lock, so two racing conditional PUTs can both succeed; real S3
decides them atomically. Serialising requests gives moto S3's semantics, so the concurrent-push
tests test our compare-and-swap rather than a race inside the fake.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def atomic(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    run_simple("127.0.0.1", port, atomic, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
