"""moto server, with requests handled one at a time.

moto's DynamoDB is not safe under concurrent requests: a transaction that fails restores
a copy of the whole table taken when it started, erasing writes that other requests made
meanwhile. Real DynamoDB serializes conflicting writes, and our concurrency tests depend on
that, so this wrapper runs moto's own app behind one lock (connections stay concurrent;
only the backend work is serialized).

It also answers `GET /crm-test/ses-messages` with the mail SES "sent" (to, subject,
body): moto's own `/moto-api/data.json` dumps every model instance, every stored item
included, which grows slow as tests fill the emulator.

Usage: python moto_server.py HOST PORT
"""

import json
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

    def ses_messages(start_response):
        from moto.ses.models import ses_backends

        messages = []
        for regions in ses_backends.values():
            for backend in regions.values():
                for m in backend.sent_messages:
                    for to in (getattr(m, "destinations", None) or {}).get("ToAddresses", []):
                        messages.append(
                            {"to": to, "subject": getattr(m, "subject", ""), "text": getattr(m, "body", "")}
                        )
        body = json.dumps(messages).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    def serialized(environ, start_response):
        with lock:
            if environ.get("PATH_INFO") == "/crm-test/ses-messages":
                return ses_messages(start_response)
            # Produce the whole response inside the lock.
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
