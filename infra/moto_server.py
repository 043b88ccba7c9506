"""moto server, with requests handled one at a time.

moto's DynamoDB is not safe under concurrent requests: a transaction that fails restores
a copy of the whole table taken when it started, erasing writes that other requests made
meanwhile. Real DynamoDB serializes conflicting writes, and our concurrency tests depend on
that, so this wrapper runs moto's own app behind one lock (connections stay concurrent;
only the backend work is serialized).

Usage: python moto_server.py HOST PORT
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            # Produce the whole response inside the lock.
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
