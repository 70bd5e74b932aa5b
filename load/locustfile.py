"""Taskflow users for Locust: `locust -f load/ --host https://taskflow.local` (see load/README.md).

Users sign up and log in once, then list, create, edit, complete and delete their tasks and now and
then chat, with think time between actions. `--stress` swaps them for the same actions without
think time (capacity search). `--shape ramp100` is the SC-004 run (ramp to 100 users, hold, ramp
down), `--shape steps` the capacity search; without `--shape`, `-u/-r/-t` apply as usual.

While it runs this file also writes, when asked: `--timeline FILE` (one JSON line every 5 s:
users, RPS, failures, p50/p95/p99 of the task endpoints over those 5 s, phase) and
`--summary-file FILE` (per phase: requests, failures, percentiles, active users, Locust's own
CPU). It imports nothing from the harness; the conformance run reads these files.

Distributed (`--master` / `--worker`): the shape, the phases, the timeline and the summary live on
the master. Each worker sends what the master needs with Locust's own stats report (every 3 s,
`report_to_master`): per request its time, whether it was a task endpoint and failed, and which user
sent it; its sign-up/login outcomes (the master's guard stops the whole run); its CPU seconds. The
master counts them as they arrive, so a request lands in the phase running when its report comes
in: at most one report interval late, at both ends of a phase alike.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gevent
import gevent.socket
import gevent.ssl
import locust.runners
from locust import FastHttpUser, LoadTestShape, between, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner
from taskflow_profiles import (
    SHAPES,
    Budget,
    LoginGuard,
    Ramp,
    Steps,
    Target,
    WindowStats,
    parse_target,
)

log = logging.getLogger("taskflow-load")
# Locust's master marks a worker missing after 3 heartbeats (1 s apart) it did not get, and stops
# the test when none is left. On a shared 2-core host a worker pod starved for 4 s lost a whole
# capacity run that way; 10 s still notices a dead worker within a 30-s step.
HEARTBEAT_SECONDS = 10
locust.runners.HEARTBEAT_LIVENESS = HEARTBEAT_SECONDS
TIMELINE_SECONDS = 5.0
TASK_PREFIX = "tasks: "
MAX_TASKS_KEPT = 20
AUTH_ATTEMPTS = 10
MAX_RETRY_AFTER_SECONDS = 5.0
CHAT_MESSAGES = ("what's pending?", "add a task to water the plants", "show my completed tasks")


def add_arguments(parser: Any) -> None:
    group = parser.add_argument_group("Taskflow", "Taskflow load suite (load/README.md)")
    group.add_argument("--shape", choices=SHAPES, default="none", help="load shape (none: use -u/-r/-t)")
    group.add_argument("--peak-users", type=int, default=100, help="ramp100: users held")
    group.add_argument("--ramp-seconds", type=float, default=60.0, help="ramp100: seconds to reach the peak")
    group.add_argument("--hold-seconds", type=float, default=120.0, help="ramp100: seconds at the peak")
    group.add_argument("--step-users", type=int, default=10, help="steps: users added per step")
    group.add_argument("--step-seconds", type=float, default=30.0, help="steps: seconds per step")
    group.add_argument("--max-users", type=int, default=300, help="steps: stop after this many users")
    group.add_argument("--stress", action="store_true", help="no think time (capacity search)")
    group.add_argument("--ca-file", default="", help="trust this CA/certificate file (self-signed ingress)")
    group.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate at all")
    group.add_argument(
        "--ingress-address", default="", help="connect to this IP; the --host name still goes in SNI and Host"
    )
    group.add_argument("--timeline", default="", help="append a JSON line of window stats every 5 s here")
    group.add_argument("--summary-file", default="", help="write per-phase results as JSON here at the end")


@dataclass
class PhaseStats:
    """Requests of one phase; response times only of the task endpoints (SC-004's budget)."""

    started: float
    ended: float = 0.0
    cpu_started: float = 0.0
    cpu_seconds: float = 0.0
    task_times_ms: list[float] = field(default_factory=list)
    requests: int = 0
    failures: int = 0
    worker_cpu_seconds: float = 0.0
    active_users: set[str] = field(default_factory=set)
    users_seen: list[int] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        wall = max(self.ended - self.started, 1e-9)
        window = WindowStats.of(self.task_times_ms, 0, wall)
        return {
            "started": round(self.started, 2),
            "ended": round(self.ended, 2),
            "seconds": round(wall, 1),
            "requests": self.requests,
            "failures": self.failures,
            "failure_ratio": round(self.failures / self.requests, 5) if self.requests else None,
            "rps": round(self.requests / wall, 2),
            "task_requests": len(self.task_times_ms),
            "p50_ms": window.p50_ms,
            "p95_ms": window.p95_ms,
            "p99_ms": window.p99_ms,
            "users_min": min(self.users_seen) if self.users_seen else 0,
            "users_max": max(self.users_seen) if self.users_seen else 0,
            "users_with_task_requests": len(self.active_users),
            "locust_cpu_percent": round(100 * (self.cpu_seconds + self.worker_cpu_seconds) / wall, 1),
        }


@dataclass
class RunState:
    target: Target | None = None
    shape: str = "none"
    phase: str = "run"
    phases: dict[str, PhaseStats] = field(default_factory=dict)
    window_times_ms: list[float] = field(default_factory=list)
    window_requests: int = 0
    window_failures: int = 0
    steps: list[dict[str, Any]] = field(default_factory=list)
    stopped_because: str = ""
    shape_done: bool = False
    """The shape ran to its end (or the capacity search ended on a step); False: cut short."""
    aborted: str = ""
    logins: LoginGuard = field(default_factory=LoginGuard)
    next_user: int = 0
    outbox: list[list[Any]] = field(default_factory=list)
    """On a worker: [task?, failed?, response ms, user] per request since the last report."""
    login_outbox: list[list[Any]] = field(default_factory=list)
    """On a worker: [ok?, error] per sign-up/login since the last report."""
    cpu_reported: float = 0.0
    workers_seen: set[str] = field(default_factory=set)

    def enter(self, phase: str, users: int) -> None:
        if phase == self.phase and phase in self.phases:
            return
        now = time.time()
        current = self.phases.get(self.phase)
        if current is not None and not current.ended:
            current.ended = now
            current.cpu_seconds = time.process_time() - current.cpu_started
        self.phase = phase
        self.phases[phase] = PhaseStats(started=now, cpu_started=time.process_time(), users_seen=[users])

    def finish(self) -> None:
        current = self.phases.get(self.phase)
        if current is not None and not current.ended:
            current.ended = time.time()
            current.cpu_seconds = time.process_time() - current.cpu_started


STATE = RunState()
IS_WORKER = [False]
"""Set in configure(): this process is a Locust worker (its counts go to the master)."""


def stop_run(environment: Environment, reason: str, exit_code: int = 3) -> None:
    """Stop the whole run with one line saying why (the first reason wins)."""
    if STATE.aborted:
        return
    STATE.aborted = reason
    print(f"taskflow-load: STOPPED: {reason}", file=sys.stderr, flush=True)
    environment.process_exit_code = exit_code
    if environment.runner is not None:
        gevent.spawn(environment.runner.quit)


def pin_resolution(hostname: str, address: str) -> None:
    """Dial `address` whenever `hostname` is looked up (curl's --resolve); SNI and Host stay."""
    original: Callable[..., Any] = gevent.socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return original(address if host == hostname else host, *args, **kwargs)

    gevent.socket.getaddrinfo = getaddrinfo
    socket.getaddrinfo = getaddrinfo


def client_context(options: Any) -> ssl.SSLContext:
    if options.insecure:
        return ssl._create_unverified_context()
    return ssl.create_default_context(cafile=options.ca_file or None)


def preflight(target: Target, options: Any) -> str | None:
    """One request before any user starts: unreachable, TLS failure or no API → why; else None."""
    where = f"{target.hostname}:{target.port}" + (
        f" (dialled at {target.connect_to})" if target.connect_to != target.hostname else ""
    )
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.hostname, target.port, timeout=10, context=client_context(options)
        )
    else:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    body = json.dumps({"email": "preflight@example.com", "password": "not-a-password"})
    try:
        connection.request("POST", "/api/auth/login", body, {"content-type": "application/json"})
        status = connection.getresponse().status
    except ssl.SSLError as error:
        return (
            f"TLS to {where} failed ({error.reason or error}); for the self-signed ingress give "
            "--ca-file PATH (its certificate) or, knowingly, --insecure"
        )
    except OSError as error:
        return (
            f"cannot reach {where}: {error}; check --host, or give --ingress-address IP when "
            f"{target.hostname} does not resolve"
        )
    finally:
        connection.close()
    if status in (401, 422):
        return None
    return (
        f"{where} answered POST /api/auth/login with HTTP {status}, not Taskflow's 401: "
        "is /api routed to the backend?"
    )


def configure(environment: Environment, runner: Runner, **_: Any) -> None:
    options = environment.parsed_options
    if options is None:
        return
    IS_WORKER[0] = isinstance(runner, WorkerRunner)
    if IS_WORKER[0]:
        listen(environment.events.report_to_master, report_to_master)
    if isinstance(runner, MasterRunner):
        listen(
            environment.events.worker_report,
            lambda **kwargs: worker_report(environment, **kwargs),
        )
    if isinstance(runner, MasterRunner):
        target_host = environment.host or ""
    else:
        target_host = environment.host or options.host or ""
    try:
        target = parse_target(target_host, options.ingress_address, options.ca_file, options.insecure)
    except ValueError as error:
        if options.headless or options.autostart:
            print(f"taskflow-load: {error}", file=sys.stderr)
            sys.exit(2)
        log.warning("taskflow-load: %s (set the host in the web UI)", error)
        target = None
    STATE.target = target
    STATE.shape = options.shape
    if target is not None:
        if target.connect_to != target.hostname:
            pin_resolution(target.hostname, target.connect_to)
        configure_tls(options)
        log.info("taskflow-load: %s://%s:%d, TLS %s", target.scheme, target.hostname, target.port, target.tls)
    if options.stress:
        StressUser.weight = 1  # 0 kept it out of runs without --stress
        environment.user_classes[:] = [StressUser]
    chosen = {"ramp100": Ramp100, "steps": CapacitySteps}.get(options.shape)
    environment.shape_class = None
    if chosen is not None and environment.available_shape_classes:
        environment.shape_class = environment.available_shape_classes[chosen.__name__]
        environment.shape_class.runner = runner
    if (
        target is not None
        and (options.headless or options.autostart)
        and not isinstance(runner, WorkerRunner)
    ):
        why = preflight(target, options)
        if why is not None:
            print(f"taskflow-load: STOPPED before starting: {why}", file=sys.stderr, flush=True)
            sys.exit(2)


def configure_tls(options: Any) -> None:
    TaskflowUser.insecure = bool(options.insecure)
    if options.ca_file:
        ca_file = options.ca_file

        def trusting_ca_file(*_args: Any, **_kwargs: Any) -> ssl.SSLContext:
            context: ssl.SSLContext = gevent.ssl.create_default_context(cafile=ca_file)
            return context

        TaskflowUser.ssl_context_factory = staticmethod(trusting_ca_file)


def count_request(
    name: str, response_time: float, exception: BaseException | None, context: dict[str, Any], **_: Any
) -> None:
    failed = exception is not None
    is_task = name.startswith(TASK_PREFIX)
    user = str(context.get("user", "?"))
    if IS_WORKER[0]:
        STATE.outbox.append([is_task, failed, round(response_time, 2), user])
        return
    count(is_task, failed, response_time, user)


def count(is_task: bool, failed: bool, response_time: float, user: str) -> None:
    """One request into the current 5-s window and the current phase."""
    STATE.window_requests += 1
    STATE.window_failures += failed
    if is_task and not failed:
        STATE.window_times_ms.append(response_time)
    phase = STATE.phases.get(STATE.phase)
    if phase is not None:
        phase.requests += 1
        phase.failures += failed
        if is_task and not failed:
            phase.task_times_ms.append(response_time)
            phase.active_users.add(user)


def report_to_master(data: dict[str, Any], **_: Any) -> None:
    """Worker: attach this worker's requests, logins and CPU since the last report."""
    cpu = time.process_time()
    data["taskflow"] = {
        "requests": STATE.outbox,
        "logins": STATE.login_outbox,
        "cpu_seconds": round(cpu - STATE.cpu_reported, 4),
    }
    STATE.outbox, STATE.login_outbox, STATE.cpu_reported = [], [], cpu


def worker_report(environment: Environment, client_id: str, data: dict[str, Any], **_: Any) -> None:
    """Master: count a worker's requests as if they had happened here; its logins feed the guard."""
    report = data.get("taskflow")
    if not report:
        return
    STATE.workers_seen.add(client_id)
    for is_task, failed, response_time, user in report["requests"]:
        count(bool(is_task), bool(failed), float(response_time), f"{client_id}/{user}")
    phase = STATE.phases.get(STATE.phase)
    if phase is not None:
        phase.worker_cpu_seconds += float(report["cpu_seconds"])
    for ok, error in report["logins"]:
        why = STATE.logins.record(bool(ok), str(error))
        if why is not None:
            stop_run(environment, why)


def start_timeline(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or environment.runner is None:
        return
    STATE.enter("run" if STATE.shape == "none" else STATE.phase, environment.runner.user_count)
    gevent.spawn(timeline_loop, environment)


def timeline_loop(environment: Environment) -> None:
    options = environment.parsed_options
    path = Path(options.timeline) if options is not None and options.timeline else None
    started = time.monotonic()
    while environment.runner is not None and environment.runner.state not in ("stopped", "quitting"):
        gevent.sleep(TIMELINE_SECONDS)
        window = WindowStats.of(STATE.window_times_ms, STATE.window_failures, TIMELINE_SECONDS)
        requests, failures = STATE.window_requests, STATE.window_failures
        STATE.window_times_ms, STATE.window_requests, STATE.window_failures = [], 0, 0
        users = environment.runner.user_count
        phase = STATE.phases.get(STATE.phase)
        if phase is not None:
            phase.users_seen.append(users)
        line = {
            "time": round(time.time(), 2),
            "elapsed": round(time.monotonic() - started, 1),
            "phase": STATE.phase,
            "users": users,
            "rps": round(requests / TIMELINE_SECONDS, 2),
            "failures_per_s": round(failures / TIMELINE_SECONDS, 2),
            "p50_ms": window.p50_ms,
            "p95_ms": window.p95_ms,
            "p99_ms": window.p99_ms,
        }
        if path is not None:
            with path.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(line) + "\n")


def write_summary(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if isinstance(environment.runner, WorkerRunner) or options is None:
        return
    STATE.finish()
    if STATE.shape != "none" and not STATE.shape_done and not STATE.aborted:
        STATE.aborted = cut_short_reason(environment.runner)
    target = STATE.target
    summary = {
        "host": f"{target.scheme}://{target.hostname}:{target.port}" if target else None,
        "connected_to": target.connect_to if target else None,
        "tls": target.tls if target else None,
        "shape": STATE.shape,
        "user_class": "StressUser" if options.stress else "TaskflowUser",
        "phases": {name: stats.result() for name, stats in STATE.phases.items()},
        "steps": STATE.steps,
        "stopped_because": STATE.stopped_because,
        "aborted": STATE.aborted,
        "workers": len(STATE.workers_seen),
        "budget": asdict(Budget()),
    }
    if options.summary_file:
        Path(options.summary_file).write_text(json.dumps(summary, indent=2), encoding="utf-8")


def cut_short_reason(runner: Runner | None) -> str:
    """Why a run ended before its shape did: lost workers, or Locust stopped it (see its log)."""
    if isinstance(runner, MasterRunner) and runner.clients.missing:
        return (
            f"the run ended before its shape did: {len(runner.clients.missing)} of "
            f"{len(STATE.workers_seen)} workers went missing (no heartbeat for {HEARTBEAT_SECONDS} s; "
            "a starved or killed worker), and Locust stops when the last one is gone"
        )
    return "the run ended before its shape did (Locust's log says why)"


class TaskflowUser(FastHttpUser):
    """One person using Taskflow: sign up, log in, then work on their own tasks."""

    wait_time = between(1, 3)
    network_timeout = 30.0
    connection_timeout = 10.0
    user_id = ""
    task_ids: list[int]

    def context(self) -> dict[str, Any]:
        return {"user": str(self.number)}

    def on_start(self) -> None:
        self.number = STATE.next_user
        STATE.next_user += 1
        self.task_ids = []
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        password = uuid.uuid4().hex
        credentials = {"email": email, "password": password}
        signed_up = self.authenticate("/api/auth/signup", credentials, "auth: signup", 201)
        logged_in = signed_up and self.authenticate("/api/auth/login", credentials, "auth: login", 200)
        if not logged_in:
            self.stop()

    def authenticate(self, path: str, credentials: dict[str, str], name: str, expected: int) -> bool:
        """POST credentials; on 429 wait Retry-After and try again, as a client should. Each 429
        stays a failed request in the statistics; only the final outcome feeds the login guard."""
        ok, error = False, ""
        for _attempt in range(AUTH_ATTEMPTS):
            with self.client.post(path, json=credentials, name=name, catch_response=True) as response:
                ok = response.status_code == expected
                if ok:
                    token = response.json()
                    self.user_id = str(token["user_id"])
                    self.client.auth_header = f"Bearer {token['access_token']}"
                    break
                error = f"HTTP {response.status_code} {(response.text or '')[:120]}"
                response.failure(error)
                retry_after = (
                    (response.headers or {}).get("retry-after") if response.status_code == 429 else None
                )
            if retry_after is None:
                break
            gevent.sleep(min(float(retry_after or 1), MAX_RETRY_AFTER_SECONDS))
        if IS_WORKER[0]:
            STATE.login_outbox.append([ok, "" if ok else error])  # the master's guard judges
            return ok
        why = STATE.logins.record(ok, "" if ok else error)
        if why is not None:
            stop_run(self.environment, why)
        return ok

    @property
    def tasks_path(self) -> str:
        return f"/api/{self.user_id}/tasks"

    @task(5)
    def list_tasks(self) -> None:
        with self.client.get(self.tasks_path, name="tasks: list", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            listed = response.json()
            items = listed if isinstance(listed, list) else listed.get("tasks") or listed.get("items") or []
            self.task_ids = [int(item["id"]) for item in items][-MAX_TASKS_KEPT:]

    @task(3)
    def create_task(self) -> None:
        title = f"load task {uuid.uuid4().hex[:8]}"
        body = {"title": title, "description": "created by the Taskflow load suite"}
        with self.client.post(
            self.tasks_path, json=body, name="tasks: create", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}")
                return
            self.task_ids.append(int(response.json()["id"]))
        if len(self.task_ids) > MAX_TASKS_KEPT:
            self.delete_task()

    @task(2)
    def edit_task(self) -> None:
        if not self.task_ids:
            return self.create_task()
        task_id = self.task_ids[-1]
        body = {"title": f"edited {uuid.uuid4().hex[:8]}", "description": "edited under load"}
        self.client.put(f"{self.tasks_path}/{task_id}", json=body, name="tasks: edit")
        return None

    @task(2)
    def complete_task(self) -> None:
        if not self.task_ids:
            return self.create_task()
        self.client.patch(f"{self.tasks_path}/{self.task_ids[0]}/complete", name="tasks: complete")
        return None

    @task(1)
    def delete_task(self) -> None:
        if not self.task_ids:
            return self.create_task()
        task_id = self.task_ids.pop(0)
        self.client.delete(f"{self.tasks_path}/{task_id}", name="tasks: delete")
        return None

    @task(1)
    def chat(self) -> None:
        message = CHAT_MESSAGES[self.number % len(CHAT_MESSAGES)]
        self.client.post(f"/api/{self.user_id}/chat", json={"message": message}, name="chat")


class StressUser(TaskflowUser):
    """The same actions without think time: how much the deployment serves (`--stress`)."""

    weight = 0  # only with --stress (which replaces TaskflowUser by this class)
    wait_time = constant(0)


class TaskflowShape(LoadTestShape):
    """What both shapes share; chosen by --shape in configure(), so only one ever runs."""

    abstract = True
    use_common_options = True

    def elapsed(self) -> float:
        return time.perf_counter() - float(self.start_time)

    def users_now(self) -> int:
        return self.runner.user_count if self.runner is not None else 0


class Ramp100(TaskflowShape):
    """SC-004: ramp to --peak-users over --ramp-seconds, hold --hold-seconds, ramp down."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        if options is None:
            return None
        ramp = Ramp(options.peak_users, options.ramp_seconds, options.hold_seconds)
        now = ramp.tick(self.elapsed())
        if now is None:
            STATE.shape_done = True
            return None
        STATE.enter(now.phase, self.users_now())
        return now.users, now.spawn_rate


class CapacitySteps(TaskflowShape):
    """Capacity search: add --step-users every --step-seconds until a step breaks SC-004's budget."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        if options is None:
            return None
        steps = Steps(options.step_users, options.step_seconds, options.max_users)
        now = steps.tick(self.elapsed())
        previous = STATE.phases.get(STATE.phase) if STATE.phase.startswith("step") else None
        step_ended = previous is not None and (now is None or now.phase != STATE.phase)
        if previous is not None and step_ended and self.close_step(STATE.phase, previous):
            STATE.shape_done = True
            return None
        if now is None:
            STATE.stopped_because = STATE.stopped_because or f"reached --max-users {options.max_users}"
            STATE.shape_done = True
            return None
        STATE.enter(now.phase, self.users_now())
        return now.users, now.spawn_rate

    def close_step(self, label: str, stats: PhaseStats) -> bool:
        """Record a finished step; True when it broke the budget (the search ends there)."""
        # the users it reached: the timeline samples every 5 s, so a step that short may hold none
        stats.users_seen.append(self.users_now())
        stats.ended = time.time()
        stats.cpu_seconds = time.process_time() - stats.cpu_started
        wall = stats.ended - stats.started
        times = WindowStats.of(stats.task_times_ms, 0, wall)
        window = WindowStats(stats.requests, stats.failures, wall, times.p50_ms, times.p95_ms, times.p99_ms)
        broken = Budget().broken_by(window)
        STATE.steps.append(
            {"step": label, **stats.result(), "users": max(stats.users_seen), "over_budget": broken}
        )
        if broken:
            STATE.stopped_because = f"{label} at {max(stats.users_seen)} users: {broken}"
        return broken is not None


def listen(hook: Any, handler: Callable[..., None]) -> None:
    hook.add_listener(handler)  # through Any: Locust's EventHook is untyped


listen(events.init_command_line_parser, add_arguments)
listen(events.init, configure)
listen(events.request, count_request)
listen(events.test_start, start_timeline)
listen(events.quitting, write_summary)
