"""`nox -s bench`: what a backend request costs, with the load generated elsewhere.

Not part of the test suite (the file name keeps pytest from collecting it by default); it reuses the
suite's fixtures for a real PostgreSQL and the backend as its own process (MCP server down). The load
comes from a separate process, so the server's figures are the server's: CPU per request is read
from the backend's and PostgreSQL's own process trees in /proc; whatever else the machine did
meanwhile is reported as "other CPU" (a run above NOISY_OTHER_CORES is flagged noisy), beside how
long the server and the load generator were ready to run but waited for a CPU (the scheduler's
run-queue delay, ms per second): on a busy machine that wait, not the server's work, makes latency.

Per endpoint (list of 20 tasks, create, update, chat with MCP down), BENCH_SECONDS (default 8) each:
- open loop at fixed arrival rates (BENCH_RATES, default 100,200,400 req/s) from bench_openloop.py:
  every request is sent at its own due time and its latency runs from that time (wrk2's
  coordinated-omission correction), with the generator's own lateness (send lag) beside it;
- closed loop (BENCH_CLIENTS, default 8,50 clients back to back) from Locust's FastHttpUser,
  headless (bench_locustfile.py).
More rows run list from Locust's constant_throughput pacing, the open loop this bench used before
(BENCH_PACED_RATES, default 200 req/s), to compare with the exact one, and one from wrk (closed).
Two "null server" rows run both open-loop generators against bench_null_server.py, which does no
work: what a generator reports there is its own floor. Open rows give the arrivals' dispersion
(variance/mean per 10 ms; 0 = evenly spaced, 1 = Poisson, more = bursts).
Prints a table with the targets met or missed and writes reports/bench-latest/bench.json (and every
request's times under reports/bench-latest/raw/). BENCH_ENDPOINTS limits the endpoints (e.g.
"list,create").
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from app_processes import AppProcess, free_port, run_async
from bench_cpu import cpu_model, cpu_used, read_cpu

SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
RATES = [int(rate) for rate in os.environ.get("BENCH_RATES", "100,200,400").split(",")]
CLIENTS = [int(count) for count in os.environ.get("BENCH_CLIENTS", "8,50").split(",")]
ENDPOINTS = os.environ.get("BENCH_ENDPOINTS", "list,create,update,chat").split(",")
USERS = 50
TASKS_PER_USER = 20
# Each open-loop Locust user sends this many requests per second; rate / this = how many users.
RATE_PER_LOCUST_USER = 4.0
NOISY_OTHER_CORES = 0.3
REPORT = Path(os.environ.get("BENCH_REPORT", "reports/bench-latest/bench.json"))
LOCUSTFILE = Path(__file__).with_name("bench_locustfile.py")
OPEN_LOOP = Path(__file__).with_name("bench_openloop.py")
# Arrivals are scheduled this long before and after the measured window (connection warm-up, tail).
OPEN_LOOP_MARGIN_SECONDS = 0.5
FLOOR_ROUNDS = 2000
DISPERSION_BIN_SECONDS = 0.01
NULL_SERVER = Path(__file__).with_name("bench_null_server.py")
# How long the open-loop generator may take, after its last arrival, for the last answers.
RESPONSE_WAIT_SECONDS = 60

# The targets: server CPU per request and p95 at an open-loop 200 req/s.
CPU_TARGET_MS = {"list": 1.5, "create": 1.5}
P95_TARGET_MS = {"list": 50.0, "create": 50.0}
P95_TARGET_RATE = 200
# The Locust-paced list rows (the open loop this bench had before), for comparison; "" for none.
PACED_RATES = [
    int(rate) for rate in os.environ.get("BENCH_PACED_RATES", str(P95_TARGET_RATE)).split(",") if rate
]
CHAT_DOWN_P95_TARGET_MS = 1500.0


@dataclass
class Row:
    endpoint: str
    mode: str
    rate_or_clients: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    server_cpu_ms_per_request: float
    db_cpu_ms_per_request: float
    client_cpu_ms_per_request: float
    other_cpu_cores: float
    requests: int
    # How long the server (and the load generator) were ready to run but got no CPU, in ms per
    # second of the run: a busy machine's share of the latency, not their own (~0 when quiet).
    server_cpu_wait_ms_per_s: float = float("nan")
    client_cpu_wait_ms_per_s: float = float("nan")
    # Open loop only: how late the generator got to a request (p99 of started minus due), and the
    # connections it had to open beyond its warm ones because every one was busy.
    send_lag_p99_ms: float = float("nan")
    extra_connections: int = 0
    # Open loop only: how bunched the arrivals were (_dispersion; 0 = evenly spaced).
    arrival_dispersion: float = float("nan")


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _dispersion(arrivals: list[float]) -> float:
    """Variance over mean of the arrivals per DISPERSION_BIN_SECONDS: 0 for evenly spaced ones,
    about 1 for independent (Poisson) ones, far above 1 when they come in bursts."""
    if len(arrivals) < 2:
        return float("nan")
    first, last = min(arrivals), max(arrivals)
    bins = max(1, int((last - first) / DISPERSION_BIN_SECONDS))
    counts = [0] * bins
    for arrival in arrivals:
        counts[min(bins - 1, int((arrival - first) / DISPERSION_BIN_SECONDS))] += 1
    mean = len(arrivals) / bins
    return sum((count - mean) ** 2 for count in counts) / bins / mean


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _seed(base_url: str) -> list[dict[str, Any]]:
    """USERS accounts with TASKS_PER_USER tasks each (list reads these 20 back; update renames them)."""
    accounts = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for index in range(USERS):
            body = {
                "email": f"bench-{index}-{uuid.uuid4().hex[:8]}@example.com",
                "password": "bench-password",
            }
            signed_up = client.post("/api/auth/signup", json=body)
            signed_up.raise_for_status()
            user_id, token = signed_up.json()["user_id"], signed_up.json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            task_ids = []
            for number in range(TASKS_PER_USER):
                created = client.post(
                    f"/api/{user_id}/tasks", json={"title": f"task {number}"}, headers=headers
                )
                created.raise_for_status()
                task_ids.append(created.json()["id"])
            accounts.append({"user_id": user_id, "token": token, "task_ids": task_ids})
    return accounts


async def _postmaster_pid(database_url: str) -> int:
    """The PostgreSQL server's main process as this host sees it: the parent of the backend serving a
    connection of ours, found by its pid in the server's own pid namespace (NSpid), so a server in a
    container (testcontainers) is found as well as one run here."""
    connection = await asyncpg.connect(database_url)
    try:
        server_side_pid = await connection.fetchval("SELECT pg_backend_pid()")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = dict(
                    line.split(":\t", 1)
                    for line in (entry / "status").read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:
                continue
            if status.get("NSpid", "").split()[-1:] == [str(server_side_pid)] and "postgres" in status.get(
                "Name", ""
            ):
                return int(status["PPid"])
    finally:
        await connection.close()
    raise RuntimeError("cannot find the PostgreSQL server's process on this host")


@dataclass(frozen=True)
class Target:
    """What the load goes to, and whose CPU is counted: the server's and PostgreSQL's process trees."""

    base_url: str
    server_pids: list[int]
    db_pid: int
    workdir: Path
    # Names this target's files in workdir (and reports/bench-latest/raw).
    name: str = "backend"


def _run_locust(target: Target, users_file: Path, endpoint: str, mode: str, amount: int) -> Row:
    base_url, server_pids, db_pid, workdir = (
        target.base_url,
        target.server_pids,
        target.db_pid,
        target.workdir,
    )
    ready = workdir / f"{target.name}-{endpoint}-{mode}-{amount}-locust.ready"
    out = workdir / f"{target.name}-{endpoint}-{mode}-{amount}-locust.json"
    ready.unlink(missing_ok=True)
    locust_users = max(1, round(amount / RATE_PER_LOCUST_USER)) if mode == "open" else amount
    env = {
        **os.environ,
        "BENCH_USERS_FILE": str(users_file),
        "BENCH_ENDPOINT": endpoint,
        "BENCH_RATE_PER_USER": str(RATE_PER_LOCUST_USER if mode == "open" else 0),
        "BENCH_READY_FILE": str(ready),
        "BENCH_OUT": str(out),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--users", str(locust_users), "--spawn-rate", str(max(locust_users, 1) * 4),
        "--run-time", f"{SECONDS + 1:.0f}s", "--host", base_url, "--stop-timeout", "2",
        "--loglevel", "ERROR", "--exit-code-on-error", "0",
    ]  # fmt: skip
    with (workdir / "locust.log").open("ab") as log:
        locust = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                if locust.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"locust did not start; see {workdir / 'locust.log'}")
                time.sleep(0.02)
            # Measure from one second after every Locust user started (the ramp is excluded).
            time.sleep(0.5)
            started, before = time.time(), read_cpu(server_pids, db_pid, locust.pid)
            time.sleep(SECONDS)
            ended, after = time.time(), read_cpu(server_pids, db_pid, locust.pid)
            locust.wait(60)
        finally:
            if locust.poll() is None:
                locust.kill()
                locust.wait()
    completed = json.loads(out.read_text())["requests"]
    window = [(latency, ok) for finished, latency, ok in completed if started <= finished <= ended]
    sent = [finished - latency / 1000 for finished, latency, _ in completed]
    arrivals = [moment for moment in sent if started <= moment <= ended]
    count = max(len(window), 1)
    ordered = sorted(latency for latency, _ in window)
    use = cpu_used(before, after)
    return Row(
        endpoint=endpoint,
        mode=mode,
        rate_or_clients=amount,
        rps=round(len(window) / (ended - started), 1),
        p50_ms=round(_percentile(ordered, 0.50), 2),
        p95_ms=round(_percentile(ordered, 0.95), 2),
        p99_ms=round(_percentile(ordered, 0.99), 2),
        errors=sum(1 for _, ok in window if not ok),
        server_cpu_ms_per_request=round(use.server * 1000 / count, 3),
        db_cpu_ms_per_request=round(use.db * 1000 / count, 3),
        client_cpu_ms_per_request=round(use.client * 1000 / count, 3),
        other_cpu_cores=round(use.other_cores, 2),
        requests=len(window),
        server_cpu_wait_ms_per_s=round(use.server_wait * 1000 / use.wall, 1),
        client_cpu_wait_ms_per_s=round(use.client_wait * 1000 / use.wall, 1),
        arrival_dispersion=round(_dispersion(arrivals), 2) if mode == "open" else float("nan"),
    )


def _run_open_loop(target: Target, users_file: Path, endpoint: str, rate: int) -> Row:
    """`rate` arrivals per second at exact due times from bench_openloop.py in its own process;
    latency from each request's due time; CPU over the middle SECONDS of the schedule."""
    ready = target.workdir / f"{target.name}-{endpoint}-open-{rate}.ready"
    out = target.workdir / f"{target.name}-{endpoint}-open-{rate}.json"
    ready.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BENCH_URL": target.base_url,
        "BENCH_USERS_FILE": str(users_file),
        "BENCH_ENDPOINT": endpoint,
        "BENCH_RATE": str(rate),
        "BENCH_SECONDS": str(SECONDS + 2 * OPEN_LOOP_MARGIN_SECONDS),
        "BENCH_READY_FILE": str(ready),
        "BENCH_OUT": str(out),
    }
    with (target.workdir / "openloop.log").open("ab") as log:
        generator = subprocess.Popen(
            [sys.executable, str(OPEN_LOOP)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                if generator.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the open-loop generator did not start; see {target.workdir}/openloop.log"
                    )
                time.sleep(0.005)
            time.sleep(OPEN_LOOP_MARGIN_SECONDS)
            before = read_cpu(target.server_pids, target.db_pid, generator.pid)
            time.sleep(SECONDS)
            after = read_cpu(target.server_pids, target.db_pid, generator.pid)
            generator.wait(RESPONSE_WAIT_SECONDS)
        finally:
            if generator.poll() is None:
                generator.kill()
                generator.wait()
    result = json.loads(out.read_text())
    window_start, window_end = OPEN_LOOP_MARGIN_SECONDS, OPEN_LOOP_MARGIN_SECONDS + SECONDS
    # Requests due inside the window, each with its latency from its due time.
    due_in_window = [entry for entry in result["requests"] if window_start <= entry[0] < window_end]
    finished_in_window = sum(1 for entry in result["requests"] if window_start <= entry[2] < window_end)
    ordered = sorted((done - due) * 1000 for due, _, done, _ in due_in_window)
    lags = sorted((started - due) * 1000 for due, started, _, _ in due_in_window)
    count = max(finished_in_window, 1)
    use = cpu_used(before, after)
    return Row(
        endpoint=endpoint,
        mode="open",
        rate_or_clients=rate,
        rps=round(finished_in_window / SECONDS, 1),
        p50_ms=round(_percentile(ordered, 0.50), 2),
        p95_ms=round(_percentile(ordered, 0.95), 2),
        p99_ms=round(_percentile(ordered, 0.99), 2),
        errors=sum(1 for *_, status in due_in_window if status != result["expected_status"]),
        server_cpu_ms_per_request=round(use.server * 1000 / count, 3),
        db_cpu_ms_per_request=round(use.db * 1000 / count, 3),
        client_cpu_ms_per_request=round(use.client * 1000 / count, 3),
        other_cpu_cores=round(use.other_cores, 2),
        requests=len(due_in_window),
        server_cpu_wait_ms_per_s=round(use.server_wait * 1000 / use.wall, 1),
        client_cpu_wait_ms_per_s=round(use.client_wait * 1000 / use.wall, 1),
        send_lag_p99_ms=round(_percentile(lags, 0.99), 2),
        arrival_dispersion=round(_dispersion([started for _, started, _, _ in due_in_window]), 2),
        extra_connections=result["opened_connections"] - result["warm_connections"],
    )


def _generator_floor(target: Target, users_file: Path) -> list[Row]:
    """Both open-loop generators at P95_TARGET_RATE against bench_null_server.py, a server that
    does no work: the latency each reports there is its own (and the machine's), not a server's."""
    port = free_port()
    null = subprocess.Popen([sys.executable, str(NULL_SERVER), str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if null.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bench_null_server.py did not start") from None
                time.sleep(0.05)
        against_null = replace(
            target, base_url=f"http://127.0.0.1:{port}", server_pids=[null.pid], name="null"
        )
        exact = _run_open_loop(against_null, users_file, "list", P95_TARGET_RATE)
        paced = _run_locust(against_null, users_file, "list", "open", P95_TARGET_RATE)
    finally:
        null.kill()
        null.wait()
    return [
        replace(exact, endpoint="null server (exact)"),
        replace(paced, endpoint="null server (locust pacing)"),
    ]


_WRK_SCRIPT = """
wrk.method = "GET"
wrk.path = "{path}"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def _wrk_units(value: str) -> float:
    """wrk's latency figures ("812.00us", "3.21ms", "1.02s") in ms."""
    for suffix, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * scale
    return float(value)


def _run_wrk(target: Target, account: dict[str, Any], clients: int) -> Row | None:
    """The same closed-loop list load from wrk (C, one thread), to compare what the load generator
    itself costs per request with Locust's. None when wrk is not installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    script = target.workdir / "list.lua"
    script.write_text(_WRK_SCRIPT.format(path=f"/api/{account['user_id']}/tasks", token=account["token"]))
    command = [
        wrk,
        "-t1",
        f"-c{clients}",
        f"-d{SECONDS:.0f}s",
        "--latency",
        "-s",
        str(script),
        target.base_url,
    ]
    started, before = time.time(), read_cpu(target.server_pids, target.db_pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=SECONDS + 30).stdout
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ended, after = time.time(), read_cpu(target.server_pids, target.db_pid)
    wrk_seconds = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    percentiles = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", output, re.MULTILINE))
    count = max(requests, 1)
    use = cpu_used(before, after, client_seconds=wrk_seconds)
    return Row(
        endpoint="list (wrk)",
        mode="closed",
        rate_or_clients=clients,
        rps=round(requests / (ended - started), 1),
        p50_ms=round(_wrk_units(percentiles.get("50", "nan")), 2),
        p95_ms=float("nan"),  # wrk prints 50/75/90/99 only
        p99_ms=round(_wrk_units(percentiles.get("99", "nan")), 2),
        errors=int(non_2xx.group(1)) if non_2xx else 0,
        server_cpu_ms_per_request=round(use.server * 1000 / count, 3),
        db_cpu_ms_per_request=round(use.db * 1000 / count, 3),
        client_cpu_ms_per_request=round(use.client * 1000 / count, 3),
        other_cpu_cores=round(use.other_cores, 2),
        requests=requests,
        server_cpu_wait_ms_per_s=round(use.server_wait * 1000 / use.wall, 1),
    )


async def _asyncpg_floor(database_url: str, user_id: str) -> dict[str, float]:
    """CPU ms per request of the same statements through plain asyncpg in this process: the floor a
    Python server cannot go below (one prepared statement, one round trip, no HTTP, no JSON)."""
    connection = await asyncpg.connect(database_url)
    try:
        owner = uuid.UUID(user_id)
        list_rows = await connection.prepare(
            "SELECT id, title, description, completed, created_at, updated_at FROM tasks "
            "WHERE user_id = $1 ORDER BY id LIMIT 50"
        )
        insert = await connection.prepare(
            "INSERT INTO tasks (user_id, title, description, completed) VALUES ($1, $2, '', false) "
            "RETURNING id, title, description, completed, created_at, updated_at"
        )
        floors = {}
        for name, run in (
            ("list", lambda: list_rows.fetch(owner)),
            ("create", lambda: insert.fetchrow(owner, "floor")),
        ):
            began = time.process_time()
            for _ in range(FLOOR_ROUNDS):
                await run()
            floors[name] = round((time.process_time() - began) * 1000 / FLOOR_ROUNDS, 3)
        await connection.execute("DELETE FROM tasks WHERE user_id = $1 AND title = 'floor'", owner)
        return floors
    finally:
        await connection.close()


def _targets(rows: list[Row], floors: dict[str, float]) -> list[str]:
    lines = []
    for endpoint, budget in CPU_TARGET_MS.items():
        measured = [row for row in rows if row.endpoint == endpoint and row.errors == 0]
        if not measured:
            continue
        best = min(row.server_cpu_ms_per_request for row in measured)
        verdict = "met" if best <= budget else "missed"
        floor = floors.get(endpoint)
        ratio = f", {best / floor:.1f}x the plain-asyncpg floor of {floor:.2f} ms" if floor else ""
        lines.append(f"{endpoint}: server CPU {best:.2f} ms/request <= {budget} ms: {verdict}{ratio}")
    for endpoint, budget in P95_TARGET_MS.items():
        for row in rows:
            if row.endpoint == endpoint and row.mode == "open" and row.rate_or_clients == P95_TARGET_RATE:
                verdict = "met" if row.p95_ms < budget and row.errors == 0 else "missed"
                lines.append(
                    f"{endpoint}: p95 {row.p95_ms:.1f} ms at open-loop {P95_TARGET_RATE} req/s "
                    f"< {budget:.0f} ms: {verdict} ({row.rps:.0f} req/s achieved, {row.errors} errors)"
                )
    for row in rows:
        if row.endpoint == "chat":
            verdict = "met" if row.p95_ms < CHAT_DOWN_P95_TARGET_MS and row.errors == 0 else "missed"
            lines.append(
                f"chat, MCP down ({row.mode} {row.rate_or_clients}): p95 {row.p95_ms:.1f} ms "
                f"< {CHAT_DOWN_P95_TARGET_MS:.0f} ms, every answer 503: {verdict}"
            )
    return lines


def _table(rows: list[Row]) -> str:
    header = ["endpoint", "mode", "rate/clients", "req/s", "p50", "p95", "p99", "errors",
              "server ms/req", "db ms/req", "client ms/req", "other cores", "cpu-wait ms/s server",
              "client", "send lag p99", "arrival dispersion"]  # fmt: skip
    cells = [header] + [
        [row.endpoint, row.mode, str(row.rate_or_clients), f"{row.rps:.0f}", f"{row.p50_ms:.1f}",
         f"{row.p95_ms:.1f}", f"{row.p99_ms:.1f}", str(row.errors), f"{row.server_cpu_ms_per_request:.2f}",
         f"{row.db_cpu_ms_per_request:.2f}", f"{row.client_cpu_ms_per_request:.2f}",
         f"{row.other_cpu_cores:.2f}" + (" NOISY" if row.other_cpu_cores > NOISY_OTHER_CORES else ""),
         "" if _is_nan(row.server_cpu_wait_ms_per_s) else f"{row.server_cpu_wait_ms_per_s:.0f}",
         "" if _is_nan(row.client_cpu_wait_ms_per_s) else f"{row.client_cpu_wait_ms_per_s:.0f}",
         "" if _is_nan(row.send_lag_p99_ms) else f"{row.send_lag_p99_ms:.1f}",
         "" if _is_nan(row.arrival_dispersion) else f"{row.arrival_dispersion:.1f}"]
        for row in rows
    ]  # fmt: skip
    widths = [max(len(line[column]) for line in cells) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


@pytest.mark.filterwarnings("ignore")
def test_backend_bench(
    start_backend: Callable[..., AppProcess],
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    quiet = {"ACCESS_LOG": "false", "LOG_LEVEL": "WARNING"}
    # Nothing listens on this port: the MCP server is down for the whole run.
    backend = start_backend(database_url, f"http://127.0.0.1:{free_port()}/mcp", **quiet)
    assert backend.process is not None
    server_pids = [backend.process.pid]
    db_pid = run_async(_postmaster_pid, database_url)
    accounts = _seed(backend.base_url)
    floors = run_async(_asyncpg_floor, database_url, accounts[0]["user_id"])
    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="taskflow-bench-") as scratch:
        workdir = Path(scratch)
        users_file = workdir / "users.json"
        # create gets its own users, so the list users keep exactly TASKS_PER_USER tasks.
        create_users = workdir / "create-users.json"
        users_file.write_text(json.dumps(accounts[: USERS // 2] * 2))
        create_users.write_text(json.dumps(accounts[USERS // 2 :]))
        target = Target(backend.base_url, server_pids, db_pid, workdir)
        _run_locust(target, users_file, "list", "closed", 8)  # warm-up
        for endpoint in ENDPOINTS:
            source = create_users if endpoint == "create" else users_file
            for rate in RATES:
                rows.append(_run_open_loop(target, source, endpoint, rate))
            for clients in CLIENTS:
                rows.append(_run_locust(target, source, endpoint, "closed", clients))
        # The open loop this bench used before, for comparison: Locust's constant_throughput pacing.
        if "list" in ENDPOINTS:
            for rate in PACED_RATES:
                paced = _run_locust(target, users_file, "list", "open", rate)
                rows.append(replace(paced, endpoint="list (locust pacing)"))
        # What each open-loop generator reports against a server that does no work.
        if "list" in ENDPOINTS:
            rows.extend(_generator_floor(target, users_file))
        # The load generator's own cost: the same list load from wrk, beside Locust's rows.
        compared = _run_wrk(target, accounts[0], max(CLIENTS))
        if compared is not None:
            rows.append(compared)
        # Every request's times, per row, for a closer look (e.g. how bunched Locust's arrivals are).
        raw = REPORT.parent / "raw"
        shutil.rmtree(raw, ignore_errors=True)
        raw.mkdir(parents=True)
        for measured in workdir.glob("*.json"):
            if measured.name not in {users_file.name, create_users.name}:
                shutil.copy(measured, raw / measured.name)
    other = max((row.other_cpu_cores for row in rows), default=0.0)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "load_average_before": round(load_before, 2),
            "load_generator": (
                "open loop: bench_openloop.py (exact due times, latency from the due time); "
                "closed loop: locust FastHttpUser; one process each (plus wrk and Locust-paced rows "
                "for comparison)"
            ),
            "seconds_per_row": SECONDS,
        },
        "other_cpu_cores": other,
        "noisy": other > NOISY_OTHER_CORES,
        "asyncpg_floor_cpu_ms_per_request": floors,
        # NaN (a figure the tool does not give, e.g. wrk's p95) is written as null.
        "rows": [
            {key: None if _is_nan(value) else value for key, value in asdict(row).items()} for row in rows
        ],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    with capsys.disabled():
        print(f"\n\nbackend bench: {os.cpu_count()} cpus ({cpu_model()}), {SECONDS:.0f} s per row")
        print(f"load average before: {load_before:.1f}")
        print(_table(rows))
        print(f"\nplain-asyncpg floor (CPU ms/request in one Python process): {floors}")
        noisy = (
            f"NOISY: other CPU up to {other:.2f} cores"
            if other > NOISY_OTHER_CORES
            else f"quiet: other CPU <= {other:.2f} cores"
        )
        print(f"machine: {noisy} (flagged above {NOISY_OTHER_CORES})")
        print("targets:")
        for line in _targets(rows, floors):
            print(f"  {line}")
        print(f"written: {REPORT} (every request's times: {REPORT.parent / 'raw'})\n")
    assert all(row.requests for row in rows)
