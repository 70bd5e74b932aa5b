"""bench_openloop.py is an open loop: arrivals keep their schedule however slow the server is, and
latency runs from each request's due time (so a generator that falls behind shows it)."""

from __future__ import annotations

import asyncio
from typing import Any

from app_processes import run_async
from bench_openloop import run

ACCOUNTS = [{"user_id": "00000000-0000-0000-0000-000000000001", "token": "t", "task_ids": [1]}]
RATE = 100.0
SECONDS = 1.0


async def _slow_server(hold_seconds: float, most_at_once: list[int]) -> asyncio.Server:
    """An HTTP/1.1 keep-alive server that answers every request after `hold_seconds`."""
    busy = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal busy
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                busy += 1
                most_at_once[0] = max(most_at_once[0], busy)
                await asyncio.sleep(hold_seconds)
                busy -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def _bench(hold_seconds: float, warm: int) -> tuple[dict[str, Any], int]:
    most_at_once = [0]
    server = await _slow_server(hold_seconds, most_at_once)
    port = server.sockets[0].getsockname()[1]
    async with server:
        outcome = await run(
            f"http://127.0.0.1:{port}", ACCOUNTS, endpoint="list", rate=RATE, seconds=SECONDS, warm=warm
        )
        await asyncio.sleep(0.1)  # the server's handlers see the generator's connections close
    return outcome, most_at_once[0]


def test_arrivals_keep_their_schedule_while_the_server_holds_every_answer() -> None:
    outcome, most_at_once = run_async(_bench, 0.2, 2)
    requests = outcome["requests"]
    assert len(requests) == int(RATE * SECONDS)
    assert all(status == 200 for *_, status in requests)
    # The generator got to each request close to its own due time (i / rate), not after the one before it
    # came back: 0.2 s answers at 100/s need ~20 at once, so the pool grew past its 2 warm ones.
    for number, (due, started, done, _) in enumerate(requests):
        assert due == number / RATE
        assert started - due < 0.1
        assert done - due >= 0.2
    assert most_at_once >= 15
    assert outcome["opened_connections"] >= 15


def test_latency_counts_from_the_due_time_when_no_connection_is_free() -> None:
    most_at_once = [0]

    async def bench() -> dict[str, Any]:
        server = await _slow_server(0.05, most_at_once)
        port = server.sockets[0].getsockname()[1]
        async with server:
            outcome = await run(
                f"http://127.0.0.1:{port}", ACCOUNTS, endpoint="list", rate=RATE, seconds=0.5, warm=1, most=1
            )
            await asyncio.sleep(0.1)
            return outcome

    requests = run_async(bench)["requests"]
    # One connection and 50 ms answers: 20/s served while 100/s are due, so each waits longer than
    # the one before it, and that wait is in its latency (the last is ~2 s late).
    assert most_at_once[0] == 1
    latencies = [done - due for due, _, done, _ in requests]
    assert latencies[-1] > 1.5
    assert latencies[-1] > latencies[len(latencies) // 2] > latencies[0]
