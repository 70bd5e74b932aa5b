"""The load side of `nox -s bench`: one endpoint, run by Locust (FastHttpUser) in its own process.

Started by bench_backend.py as `locust -f bench_locustfile.py --headless ...` with:
- BENCH_USERS_FILE   JSON list of {"user_id", "token", "task_ids"}: the signed-up users to act as;
- BENCH_ENDPOINT     list | create | update | chat;
- BENCH_RATE_PER_USER  requests/s per Locust user (open loop, constant_throughput); 0 = back to back;
- BENCH_READY_FILE   touched when every Locust user has started (the parent starts measuring then);
- BENCH_OUT          where the completed requests go at the end: {"requests": [[end_time, ms, ok]], ...}.

Each Locust user keeps to one signed-up user, so list always returns that user's 20 tasks.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, constant_throughput, events, task

USERS: list[dict[str, Any]] = json.loads(Path(os.environ["BENCH_USERS_FILE"]).read_text())
ENDPOINT = os.environ["BENCH_ENDPOINT"]
RATE_PER_USER = float(os.environ.get("BENCH_RATE_PER_USER", "0"))
EXPECTED = {"list": 200, "create": 201, "update": 200, "chat": 503}[ENDPOINT]

_next_user = itertools.count()
# (completion time, latency ms, as expected)
_completed: list[tuple[float, float, bool]] = []


class BenchUser(FastHttpUser):
    wait_time = constant_throughput(RATE_PER_USER) if RATE_PER_USER > 0 else constant(0)
    # Keep-alive connections, one per Locust user (as a browser or a proxy would keep them).
    connection_timeout = 10.0
    network_timeout = 30.0

    def on_start(self) -> None:
        account = USERS[next(_next_user) % len(USERS)]
        self.user_id = account["user_id"]
        self.task_ids = account["task_ids"]
        self.headers = {"Authorization": f"Bearer {account['token']}"}
        self.count = 0

    @task
    def one_request(self) -> None:
        self.count += 1
        base = f"/api/{self.user_id}"
        started = time.perf_counter()
        if ENDPOINT == "list":
            request = self.client.get(f"{base}/tasks", headers=self.headers, catch_response=True)
        elif ENDPOINT == "create":
            request = self.client.post(
                f"{base}/tasks",
                json={"title": f"bench {self.count}"},
                headers=self.headers,
                catch_response=True,
            )
        elif ENDPOINT == "update":
            task_id = self.task_ids[self.count % len(self.task_ids)]
            request = self.client.put(
                f"{base}/tasks/{task_id}",
                json={"title": f"renamed {self.count}"},
                headers=self.headers,
                catch_response=True,
            )
        else:
            request = self.client.post(
                f"{base}/chat", json={"message": "what's pending?"}, headers=self.headers, catch_response=True
            )
        with request as response:
            ok = response.status_code == EXPECTED
            if ok:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
        _completed.append((time.time(), (time.perf_counter() - started) * 1000, ok))


@events.spawning_complete.add_listener
def _all_started(user_count: int, **_: Any) -> None:
    Path(os.environ["BENCH_READY_FILE"]).write_text(str(time.time()))


@events.quitting.add_listener
def _write_results(**_: Any) -> None:
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps({"requests": _completed}))
