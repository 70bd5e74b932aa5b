"""Writers and readers through the ingress while a fault happens, and what they prove afterwards.

`start_traffic` (action) starts writer and reader threads in the `chaos run` process; writers
create and rename their own tasks and keep a ledger of every acknowledged write. `stop_traffic`
(action, also safe as a rollback) stops them, saves every request as JSON lines next to the
journal and checks the failures against a bound. `verify_ledger` (probe) reads every task back and
checks each acknowledged write is there with its last acknowledged value.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from taskflow_chaos.api import Api, Reply, User
from taskflow_chaos.checks import check, outcome
from taskflow_chaos.clock import event, marked
from taskflow_chaos.ledger import Ledger, compare
from taskflow_chaos.target import target_of

PAUSE_SECONDS = 0.05
REQUEST_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Sample:
    at: float
    op: str
    ok: bool
    status: int | None
    seconds: float
    error: str = ""


@dataclass
class Traffic:
    api: Api
    user: User
    ledger: Ledger = field(default_factory=Ledger)
    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, op: str, method: str, path: str, expected: int, body: Any = None) -> Reply:
        reply = self.api.request(method, path, body, self.user.token, timeout=REQUEST_TIMEOUT_SECONDS)
        ok = reply.status == expected
        error = "" if ok else (reply.error or f"HTTP {reply.status}: {reply.body[:120]}")
        sample = Sample(round(time.time(), 3), op, ok, reply.status, round(reply.seconds, 4), error)
        with self._lock:
            self.samples.append(sample)
        return reply

    def writer(self, number: int) -> None:
        tasks = f"/api/{self.user.user_id}/tasks"
        own: list[int] = []
        sequence = 0
        while not self.stop.is_set():
            sequence += 1
            if own and sequence % 2 == 0:
                task_id = own[sequence % len(own)]
                title = f"w{number}-t{task_id}-v{sequence}"
                reply = self.call("update", "PUT", f"{tasks}/{task_id}", 200, {"title": title})
                if reply.status == 200:
                    self.ledger.acknowledge(task_id, title)
                elif reply.status is None or reply.status >= 500:
                    # No answer, or a failure after which the write may still have committed.
                    self.ledger.unanswered_update(task_id, title)
            else:
                title = f"w{number}-n{sequence}"
                reply = self.call("create", "POST", tasks, 201, {"title": title, "description": "chaos"})
                created = reply.json() if reply.status == 201 else None
                if isinstance(created, dict) and "id" in created:
                    own.append(int(created["id"]))
                    self.ledger.acknowledge(int(created["id"]), str(created.get("title", title)))
            self.stop.wait(PAUSE_SECONDS)

    def reader(self) -> None:
        while not self.stop.is_set():
            self.call("list", "GET", f"/api/{self.user.user_id}/tasks", 200)
            self.stop.wait(PAUSE_SECONDS * 2)


_running: dict[str, Traffic] = {}
_stopped: dict[str, Traffic] = {}


def traffic_named(name: str) -> Traffic | None:
    """The traffic of that name in this process, running or stopped."""
    return _stopped.get(name) or _running.get(name)


def start_traffic(
    name: str = "traffic", writers: int = 2, readers: int = 1, configuration: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    if name in _running:
        raise RuntimeError(f"traffic {name!r} already runs")
    api = Api(target_of(configuration))
    traffic = Traffic(api, api.sign_up())
    for number in range(writers):
        traffic.threads.append(threading.Thread(target=traffic.writer, args=(number,), daemon=True))
    for _ in range(readers):
        traffic.threads.append(threading.Thread(target=traffic.reader, daemon=True))
    for thread in traffic.threads:
        thread.start()
    _running[name] = traffic
    return {
        "writers": writers,
        "readers": readers,
        "user_id": traffic.user.user_id,
        "events": [event(f"{name} started")],
    }


def longest_gap(samples: list[Sample]) -> float:
    """Longest stretch (seconds) in which no request got a successful answer."""
    answered = sorted(sample.at for sample in samples if sample.ok)
    if len(answered) < 2:
        return float("inf") if samples else 0.0
    return round(max(later - earlier for earlier, later in pairwise(answered)), 2)


def failures_between(samples: list[Sample], start: float | None, end: float | None) -> list[Sample]:
    """Failed requests sent after `start` and answered before `end` (either None: open)."""
    return [
        sample
        for sample in samples
        if not sample.ok
        and (start is None or sample.at - sample.seconds >= start)
        and (end is None or sample.at <= end)
    ]


def stop_traffic(
    name: str = "traffic",
    criterion: str = "",
    *,
    max_failed: int = -1,
    max_gap_seconds: float = 0,
    quiet_between: Sequence[str] = (),
    settle_seconds: float = 2.0,
    max_p95_ms: float = 0,
    configuration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Stop the named traffic (nothing to do if it is not running) and check it, when a criterion
    is given, against: at most `max_failed` failed requests (-1: not checked), never longer than
    `max_gap_seconds` without a successful answer (0: not checked), and no failure between the
    two named marks of `quiet_between` (e.g. while readiness had the pod out; the window opens
    `settle_seconds` after the first mark, the time the ingress controller takes to act on an
    EndpointSlice change), and a p95 latency
    of answered requests of at most `max_p95_ms` (0: not checked)."""
    traffic = _running.pop(name, None)
    if traffic is None:
        return outcome(stopped=False)
    traffic.stop.set()
    for thread in traffic.threads:
        thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 2)
    _stopped[name] = traffic
    target = target_of(configuration)
    target.output_dir.mkdir(parents=True, exist_ok=True)
    samples_file = target.output_dir / f"{name}.jsonl"
    with samples_file.open("w", encoding="utf-8") as stream:
        for sample in traffic.samples:
            stream.write(json.dumps(asdict(sample)) + "\n")
    failed = [sample for sample in traffic.samples if not sample.ok]
    by_op: dict[str, int] = {}
    for sample in traffic.samples:
        by_op[sample.op] = by_op.get(sample.op, 0) + 1
    failed_by_op: dict[str, int] = {}
    for sample in failed:
        failed_by_op[sample.op] = failed_by_op.get(sample.op, 0) + 1
    checks = []
    if criterion and max_gap_seconds:
        gap = longest_gap(traffic.samples)
        checks.append(
            check(
                criterion,
                f"the service kept answering during the fault ({name})",
                ok=gap <= max_gap_seconds,
                metric="longest time without a successful answer",
                value=gap,
                unit="s",
                budget=f"<= {max_gap_seconds:.1f} s",
            )
        )
    if criterion and quiet_between:
        start, end = (marked(mark_name) for mark_name in quiet_between)
        start = start + settle_seconds if start is not None else None
        window = failures_between(traffic.samples, start, end) if start else []
        checks.append(
            check(
                criterion,
                f"no request failed from {settle_seconds:g} s after {quiet_between[0]}"
                f" to {quiet_between[1]} ({name})",
                ok=start is not None and not window,
                metric="failed requests",
                value=len(window) if start else None,
                budget="0",
                detail="; ".join(sorted({sample.error for sample in window}))[:300]
                or ("" if start else f"mark {quiet_between[0]} never set"),
            )
        )
    if criterion and max_p95_ms:
        latencies = sorted(sample.seconds * 1000 for sample in traffic.samples if sample.ok)
        p95 = round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1) if latencies else None
        checks.append(
            check(
                criterion,
                f"p95 latency through the ingress during the fault ({name})",
                ok=p95 is not None and p95 <= max_p95_ms,
                metric="p95 latency",
                value=p95,
                unit="ms",
                budget=f"<= {max_p95_ms:.0f} ms",
                samples=latencies,
                detail=f"{len(latencies)} answered requests",
            )
        )
    if criterion and max_failed >= 0:
        checks.append(
            check(
                criterion,
                f"requests failed through the ingress during the fault ({name})",
                ok=len(failed) <= max_failed and bool(traffic.samples),
                metric="failed requests",
                value=len(failed),
                budget=f"<= {max_failed} of {len(traffic.samples)}",
                detail="; ".join(sorted({sample.error for sample in failed}))[:300]
                or f"by operation: {by_op}",
            )
        )
    return outcome(
        *checks,
        stopped=True,
        samples_file=samples_file.name,
        requests=len(traffic.samples),
        failed=len(failed),
        requests_by_op=by_op,
        failed_by_op=failed_by_op,
        writes_acknowledged=traffic.ledger.writes_acknowledged,
        events=[event(f"{name} stopped")],
    )


PAGE = 500
LEDGER_CHECK = "every acknowledged write is present with its last acknowledged value"


def read_all_tasks(traffic: Traffic, timeout: float) -> tuple[list[dict[str, Any]] | None, str]:
    """Every task of the traffic's user, page by page; retried until the API answers."""
    deadline = time.monotonic() + timeout
    tasks: list[dict[str, Any]] = []
    while True:
        path = f"/api/{traffic.user.user_id}/tasks?limit={PAGE}&offset={len(tasks)}"
        reply = traffic.api.request("GET", path, token=traffic.user.token)
        page = reply.json()
        if reply.status == 200 and isinstance(page, list):
            tasks.extend(page)
            if len(page) < PAGE:
                return tasks, ""
            continue
        if time.monotonic() > deadline:
            return None, reply.describe()
        time.sleep(1)


def verify_ledger(
    name: str = "traffic",
    criterion: str = "SC-005",
    timeout: float = 60.0,
    configuration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Read every task of the traffic's user back; each acknowledged write must be there, last value."""
    traffic = traffic_named(name)
    if traffic is None:
        return outcome(
            check(
                criterion,
                LEDGER_CHECK,
                ok=False,
                metric="ledger",
                value="none",
                budget="a ledger",
                detail=f"no traffic named {name!r} ran in this experiment",
            )
        )
    listed, problem = read_all_tasks(traffic, timeout)
    if listed is None:
        return outcome(
            check(
                criterion,
                LEDGER_CHECK,
                ok=False,
                metric="task list",
                value=problem,
                budget="HTTP 200",
                detail=f"could not read tasks back in {timeout:.0f} s",
            )
        )
    found = {int(task["id"]): str(task["title"]) for task in listed}
    result = compare(traffic.ledger, found)
    detail = (
        f"{traffic.ledger.writes_acknowledged} acknowledged writes over {result.acknowledged_tasks} tasks"
    )
    if result.missing:
        detail += f"; missing task ids {list(result.missing)[:10]}"
    if result.stale:
        detail += f"; stale (id, acknowledged, found) {list(result.stale)[:5]}"
    return outcome(
        check(
            criterion,
            LEDGER_CHECK,
            ok=result.lost == 0 and result.acknowledged_tasks > 0,
            metric="tasks with their last acknowledged value",
            value=result.found_with_last_value,
            budget=f"= {result.acknowledged_tasks} acknowledged (and > 0)",
            detail=detail,
        ),
        acknowledged_tasks=result.acknowledged_tasks,
        writes_acknowledged=traffic.ledger.writes_acknowledged,
        found_with_last_value=result.found_with_last_value,
        lost=result.lost,
    )
