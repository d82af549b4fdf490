"""`synth serve tools`: the corpus tools over HTTP/JSON (stdlib server, one thread per connection).

    GET  /health              {"status": "ok", "corpus_version": ..., "documents": n, "tools": [...]}
    GET  /tools               OpenAI function schemas (pass them as `tools=` to a chat completion)
    POST /call                {"name": "search", "arguments": {...} or "<JSON text>", "question": optional}
                              -> {"result": {...}}   (arguments as in an OpenAI tool call)
    POST /tools/NAME          body = the arguments object -> {"result": {...}}
Bad requests (unknown tool, invalid arguments, malformed JSON) get HTTP 400 and {"error": code,
"message": ...}; a missing document is a normal result ({"error": "doc_not_found"}), as an agent
should see it. `question` turns on the 13-gram leak guard for that call.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from synth.env.tools import ToolBox, ToolError

MAX_BODY = 1 << 20


def make_handler(box: ToolBox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "synth-tools/1"

        def log_message(self, format: str, *args) -> None:  # quiet: agents make many calls
            pass

        def _send(self, status: int, payload: dict | list) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            self._send(status, {"error": code, "message": message})

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"status": "ok", "corpus_version": box.corpus.version,
                                 "documents": len(box.corpus), "tools": list(box.tools)})
            elif self.path == "/tools":
                self._send(200, box.schemas())
            else:
                self._error(404, "not_found", f"no route {self.path}; see /health, /tools, /call")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._error(413, "too_large", f"request body over {MAX_BODY} bytes")
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                return self._error(400, "invalid_json", str(exc))
            if not isinstance(body, dict):
                return self._error(400, "invalid_json", "expected a JSON object")
            if self.path == "/call":
                name, arguments, question = body.get("name"), body.get("arguments"), body.get("question")
            elif self.path.startswith("/tools/"):
                name, arguments, question = self.path[len("/tools/"):], body, None
                question = arguments.pop("question", None) if isinstance(arguments, dict) else None
            else:
                return self._error(404, "not_found", f"no route {self.path}")
            try:
                result = box.call(str(name), arguments, question=question if isinstance(question, str) else None)
            except ToolError as exc:
                return self._error(400, exc.code, str(exc))
            except Exception as exc:  # noqa: BLE001 - keep serving; the caller gets one line
                return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", f"{type(exc).__name__}: {exc}")
            self._send(200, {"result": result})

    return Handler


class ToolServer:
    """A running server; `port=0` picks a free port (read it back from `.port`)."""

    def __init__(self, box: ToolBox, host: str = "127.0.0.1", port: int = 0):
        self.httpd = ThreadingHTTPServer((host, port), make_handler(box))
        self.httpd.daemon_threads = True
        # Closing must not wait for handler threads: an agent's idle keep-alive connection would hold
        # shutdown (SIGTERM) until the client hangs up. They are daemon threads and die with the process.
        self.httpd.block_on_close = False
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> ToolServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
