"""The Shtrih-M emulator's admin hook: fault programs over HTTP, beside the KKT's own port.

``POST /admin/faults`` with a JSON object (``{"paper_out_in_close": 1}``) programs :class:`~.faults.ShtrihFaults`;
``DELETE /admin/faults`` clears them; ``GET /admin/faults`` reads them; ``POST /admin/disconnect`` drops every open
connection. Standard library only: the KKT's emulator needs no web stack.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kkt_emulators.shtrih.faults import ShtrihFaults


class AdminServer:
    """Serves the admin routes for ``faults`` on ``host:port`` (0: a free port) in a thread."""

    def __init__(self, faults: ShtrihFaults, drop: Callable[[], None], *, host: str, port: int) -> None:
        admin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the emulator's output is its own."""

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/admin/faults":
                    return self._answer(404, {"error": "not found"})
                self._answer(200, admin.faults.as_dict())

            def do_DELETE(self) -> None:
                admin.faults.clear()
                self._answer(200, admin.faults.as_dict())

            def do_POST(self) -> None:
                if self.path == "/admin/disconnect":
                    admin.drop()
                    return self._answer(200, {"dropped": True})
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError("a JSON object of fault names")
                    admin.faults.program(**body)
                except ValueError as exc:
                    return self._answer(422, {"error": str(exc)})
                self._answer(200, admin.faults.as_dict())

        self.faults = faults
        self.drop = drop
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="shtrih-admin", daemon=True)

    @property
    def url(self) -> str:
        """The admin server's base URL."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=2)
