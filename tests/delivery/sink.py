"""Test servers for delivery: an SMTP sink (aiosmtpd) and an HTTP sink, both on loopback.

The SMTP sink records every message it accepts (raw copies, so a duplicate would show) and,
when given a file, appends each Message-ID to it — which is how ``confirm`` (the
``DELIVERY_EMAIL_CONFIRM`` hook of the worker processes in the fault tests) asks "did the
server get this?" across processes.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["SmtpSink", "HttpSink", "free_port", "confirm"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def confirm(message_id: str, address: str) -> bool | None:
    """``DELIVERY_EMAIL_CONFIRM`` for the tests: is ``message_id`` in the sink's file?"""
    path = os.environ.get("RF_TEST_SINK_FILE")
    if not path or not Path(path).exists():
        return None
    return message_id in Path(path).read_text().split()


class SmtpSink:
    """An aiosmtpd server; ``delay`` seconds between receiving DATA and answering 250."""

    def __init__(self, file: Path | None = None, delay: float = 0.0,
                 refuse: tuple[str, ...] = ()):  # fmt: skip
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.Message] = []
        self.file = file
        self.delay = delay
        self.refuse = refuse
        self.received = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list) -> str:  # fmt: skip
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)  # stored at once: a kill during the delay is "in doubt"
        if self.file is not None:
            with open(self.file, "a") as fh:
                fh.write(f"{message['Message-ID']}\n")
        self.received.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()

    @property
    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def duplicates(self) -> dict[str, int]:
        return {k: n for k, n in Counter(self.message_ids).items() if n > 1}

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.05)
        return False


class HttpSink:
    """A threaded HTTP server recording POSTs; answers ``status`` (and ``location``)."""

    def __init__(self, status: int = 200, body: bytes = b'{"errcode": 0}',
                 location: str | None = None):  # fmt: skip
        self.requests: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                sink.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "body": json.loads(raw or b"null")})  # fmt: skip
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> HttpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
