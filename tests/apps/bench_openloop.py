"""Open-loop load at exact arrival times, for `nox -s bench`: `python bench_openloop.py`.

Request i is due at start + i / rate, whatever happened to the requests before it (an open loop,
like independent users). Its latency is measured from that due time, not from when it was written
to the socket, so a late send (a busy generator, no free connection) counts against the latency
instead of hiding it: the coordinated-omission correction wrk2 makes. The send lag (when the
generator got to the request, minus due) is recorded beside it, so a run shows whether the
generator itself kept time.

HTTP/1.1 over plain asyncio streams (uvloop when installed), keep-alive, one request at a time per
connection; CONNECTIONS are opened before the clock starts and more are opened when every one is
busy (a proxy in front of a server does the same), up to BENCH_MOST_CONNECTIONS (default 512), counted
in the result. Arguments (environment):
- BENCH_URL          the backend root, http://127.0.0.1:PORT
- BENCH_USERS_FILE   JSON list of {"user_id", "token", "task_ids"}: requests cycle through these
- BENCH_ENDPOINT     list | create | update | chat
- BENCH_RATE         arrivals per second
- BENCH_SECONDS      how long arrivals are scheduled for
- BENCH_CONNECTIONS  connections opened before the clock starts (default 64)
- BENCH_READY_FILE   written with the clock's start (epoch seconds) when the first arrival is due
- BENCH_OUT          {"started", "rate", "opened_connections", "requests": [[due, started, done, status]]}
                     times in seconds from the clock's start; status 0 = transport error
Nothing here imports the harness or the apps: it runs on its own, as a separate process.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

EXPECTED_STATUS = {"list": 200, "create": 201, "update": 200, "chat": 503}
RESPONSE_TIMEOUT_SECONDS = 30.0
# Connections open at most at once (an overloaded server would otherwise get one per late request).
MOST_CONNECTIONS = int(os.environ.get("BENCH_MOST_CONNECTIONS", "512"))


def request_bytes(endpoint: str, host: str, account: dict[str, Any], number: int) -> bytes:
    """One complete HTTP/1.1 request for `endpoint`, as `account`."""
    base = f"/api/{account['user_id']}"
    method, path, body = {
        "list": ("GET", f"{base}/tasks", None),
        "create": ("POST", f"{base}/tasks", {"title": f"bench {number}"}),
        "update": (
            "PUT",
            f"{base}/tasks/{account['task_ids'][number % len(account['task_ids'])]}",
            {"title": f"renamed {number}"},
        ),
        "chat": ("POST", f"{base}/chat", {"message": "what's pending?"}),
    }[endpoint]
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {account['token']}",
        "Accept: application/json",
    ]
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of one response read to its end, and whether the connection may be reused."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


class Connections:
    """Keep-alive connections to one server: an idle one, else a new one, up to `most` at once
    (then a request waits for one to come back, and the wait counts in its latency)."""

    def __init__(self, host: str, port: int, most: int) -> None:
        self.host, self.port = host, port
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = deque()
        self.slots = asyncio.Semaphore(most)
        self.opened = 0

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await self.slots.acquire()
        try:
            # Oldest idle first, so every connection stays in use (the server closes idle ones);
            # one the server closed meanwhile is dropped.
            while self.idle:
                reader, writer = self.idle.popleft()
                if not reader.at_eof():
                    return reader, writer
                writer.close()
            return await self.open()
        except OSError:
            self.slots.release()
            raise

    def give_back(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.append(connection)
        self.slots.release()

    def drop(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        self.slots.release()


async def one_request(
    connections: Connections, payload: bytes, due: float, clock: float, results: list[list[float]]
) -> None:
    # When the generator got to this request: its own lateness (a wait for a free connection
    # after this is the server's doing, and counts in the latency only).
    started, status = time.perf_counter() - clock, 0.0
    try:
        reader, writer = await connections.take()
    except OSError:
        results.append([due, started, time.perf_counter() - clock, status])
        return
    try:
        writer.write(payload)
        status_code, reusable = await asyncio.wait_for(read_response(reader), RESPONSE_TIMEOUT_SECONDS)
        status = float(status_code)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
        reusable = False
    results.append([due, started, time.perf_counter() - clock, status])
    if reusable:
        connections.give_back((reader, writer))
    else:
        connections.drop(writer)


async def run(
    url: str,
    accounts: list[dict[str, Any]],
    *,
    endpoint: str,
    rate: float,
    seconds: float,
    warm: int,
    most: int = MOST_CONNECTIONS,
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    connections = Connections(host, port, most)
    for connection in await asyncio.gather(*(connections.take() for _ in range(warm))):
        connections.give_back(connection)
    total = int(rate * seconds)
    payloads = [
        request_bytes(endpoint, f"{host}:{port}", accounts[number % len(accounts)], number)
        for number in range(total)
    ]
    results: list[list[float]] = []
    pending: set[asyncio.Task[None]] = set()
    started_epoch = time.time()
    clock = time.perf_counter()
    ready = os.environ.get("BENCH_READY_FILE")
    if ready:
        Path(ready).write_text(str(started_epoch))
    for number, payload in enumerate(payloads):
        due = number / rate
        delay = due - (time.perf_counter() - clock)
        if delay > 0:
            await asyncio.sleep(delay)
        request = asyncio.ensure_future(one_request(connections, payload, due, clock, results))
        pending.add(request)
        request.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    for _, writer in connections.idle:
        writer.close()
    return {
        "started": started_epoch,
        "rate": rate,
        "opened_connections": connections.opened,
        "warm_connections": warm,
        "requests": sorted(results),
    }


def main() -> None:
    try:
        import uvloop  # noqa: PLC0415 - optional: a cheaper event loop when it is installed

        uvloop.install()
    except ImportError:
        pass
    endpoint = os.environ["BENCH_ENDPOINT"]
    if endpoint not in EXPECTED_STATUS:
        raise SystemExit(f"bench_openloop: BENCH_ENDPOINT must be one of {', '.join(EXPECTED_STATUS)}")
    accounts = json.loads(Path(os.environ["BENCH_USERS_FILE"]).read_text())
    outcome = asyncio.run(
        run(
            os.environ["BENCH_URL"],
            accounts,
            endpoint=endpoint,
            rate=float(os.environ["BENCH_RATE"]),
            seconds=float(os.environ["BENCH_SECONDS"]),
            warm=int(os.environ.get("BENCH_CONNECTIONS", "64")),
        )
    )
    outcome["expected_status"] = EXPECTED_STATUS[endpoint]
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps(outcome))


if __name__ == "__main__":
    main()
