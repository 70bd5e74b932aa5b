"""`nox -s bench`: backend throughput and latency on one process, printed as a table.

Not part of the test suite (the file name keeps pytest from collecting it by default); it reuses the
suite's fixtures to run PostgreSQL and a backend process on loopback. Figures, not pass/fail: the
targets (list/create p95 < 50 ms at 50 clients; chat with MCP down < 1.5 s) are printed beside them.
BENCH_SECONDS (default 10) sets how long each load phase runs; BENCH_CLIENTS (default 50) the concurrency.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from app_processes import AppProcess, free_port, run_async

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
TASKS_PER_USER = 20
CHAT_DOWN_REQUESTS = 30
CHAT_DOWN_CLIENTS = 5


@dataclass
class Result:
    scenario: str
    clients: int
    latencies: list[float]
    failures: Counter[str]
    elapsed: float
    target_p95_ms: float
    server_cpu_seconds: float

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_seconds * 1000 / max(len(self.latencies), 1)

    def row(self) -> list[str]:
        ordered = sorted(self.latencies) or [0.0]
        p50 = statistics.median(ordered) * 1000
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
        verdict = "meets" if p95 < self.target_p95_ms and not self.failures else "misses"
        return [
            self.scenario,
            str(self.clients),
            str(len(self.latencies)),
            f"{len(self.latencies) / self.elapsed:.0f}",
            f"{p50:.1f}",
            f"{p95:.1f}",
            f"{ordered[-1] * 1000:.1f}",
            ", ".join(f"{count} {what}" for what, count in self.failures.items()) or "0",
            f"{self.cpu_ms_per_request:.2f}",
            f"p95 < {self.target_p95_ms:.0f} ms: {verdict}",
        ]


@dataclass
class BenchUser:
    user_id: str
    headers: dict[str, str]


Request = Callable[[httpx.AsyncClient, BenchUser, int], Awaitable[httpx.Response]]


async def _sign_up(client: httpx.AsyncClient, index: int) -> BenchUser:
    body = {"email": f"bench-{index}-{time.time_ns()}@example.com", "password": "bench-password"}
    response = await client.post("/api/auth/signup", json=body)
    response.raise_for_status()
    user = BenchUser(
        response.json()["user_id"], {"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    for number in range(TASKS_PER_USER):
        created = await client.post(
            f"/api/{user.user_id}/tasks", json={"title": f"task {number}"}, headers=user.headers
        )
        created.raise_for_status()
    return user


async def _load(
    client: httpx.AsyncClient, users: list[BenchUser], request: Request, expected: int, seconds: float
) -> tuple[list[float], Counter[str], float]:
    """Each user's client sends requests back to back for `seconds`; latencies and unexpected outcomes."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def worker(user: BenchUser) -> None:
        count = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status = (await request(client, user, count)).status_code
                outcome = None if status == expected else f"HTTP {status}"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            if outcome is not None:
                failures[outcome] += 1
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(user) for user in users))
    return latencies, failures, time.perf_counter() - started


def _list(client: httpx.AsyncClient, user: BenchUser, _: int) -> Awaitable[httpx.Response]:
    return client.get(f"/api/{user.user_id}/tasks", headers=user.headers)


def _create(client: httpx.AsyncClient, user: BenchUser, count: int) -> Awaitable[httpx.Response]:
    return client.post(f"/api/{user.user_id}/tasks", json={"title": f"bench {count}"}, headers=user.headers)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc), to show cost apart from contention."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _rest_bench(base_url: str, pid: int) -> list[Result]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        users = list(await asyncio.gather(*(_sign_up(client, index) for index in range(CLIENTS))))
        await _load(client, users, _list, 200, min(2.0, SECONDS))  # warm-up
        results = []
        for name, request, expected in (("list tasks", _list, 200), ("create task", _create, 201)):
            cpu_before = _cpu_seconds(pid)
            latencies, failures, elapsed = await _load(client, users, request, expected, SECONDS)
            cpu = _cpu_seconds(pid) - cpu_before
            results.append(Result(name, CLIENTS, latencies, failures, elapsed, 50, cpu))
        return results


async def _chat_down_bench(base_url: str, pid: int) -> Result:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        user = await _sign_up(client, 0)
        latencies: list[float] = []
        failures: Counter[str] = Counter()
        started = time.perf_counter()
        cpu_before = _cpu_seconds(pid)

        async def one() -> None:
            began = time.perf_counter()
            response = await client.post(
                f"/api/{user.user_id}/chat", json={"message": "what's pending?"}, headers=user.headers
            )
            latencies.append(time.perf_counter() - began)
            if response.status_code != 503 or "Retry-After" not in response.headers:
                failures[f"HTTP {response.status_code}"] += 1

        for _ in range(CHAT_DOWN_REQUESTS // CHAT_DOWN_CLIENTS):
            await asyncio.gather(*(one() for _ in range(CHAT_DOWN_CLIENTS)))
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(pid) - cpu_before
        return Result("chat, MCP down", CHAT_DOWN_CLIENTS, latencies, failures, elapsed, 1500, cpu)


def _table(results: list[Result]) -> str:
    header = [
        "scenario",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "max ms",
        "errors",
        "server cpu ms/req",
        "target",
    ]
    rows = [header, *(result.row() for result in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


@pytest.mark.filterwarnings("ignore")
def test_backend_bench(
    start_backend: Callable[..., AppProcess], database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = {"ACCESS_LOG": "false", "LOG_LEVEL": "WARNING", "DB_POOL_SIZE": "20", "DB_MAX_OVERFLOW": "30"}
    # Nothing listens on this port: the MCP server is down for the whole run.
    backend = start_backend(database_url, f"http://127.0.0.1:{free_port()}/mcp", **quiet)
    assert backend.process is not None
    pid = backend.process.pid
    results = run_async(_rest_bench, backend.base_url, pid)
    results.append(run_async(_chat_down_bench, backend.base_url, pid))
    with capsys.disabled():
        load = os.getloadavg()[0]
        cpus = os.cpu_count()
        print(f"\n\nbackend bench: one process, {SECONDS:.0f} s per phase, {cpus} cpus, load {load:.1f}")
        print(_table(results))
        print()
    assert all(result.latencies for result in results)
