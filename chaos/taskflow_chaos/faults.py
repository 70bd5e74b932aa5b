"""Faults chaostoolkit-kubernetes has no action for, all done through `exec` so they work under the
namespace's restricted Pod Security profile (no privileges, no capabilities, no extra containers):

- crash: the container's main process is PID 1 of its PID namespace, which ignores every signal it
  has no handler for (SIGKILL included, when sent from inside), and uvicorn turns SIGINT/SIGTERM
  into a clean exit 0. But a traced process ignores no signal: a helper ptrace-seizes PID 1, sends
  it SIGUSR1 (which stops it for the tracer) and resumes it with SIGKILL injected — a signal even
  a namespace's init cannot refuse. The container dies with exit code 137, as from a segfault or
  an OOM kill, and the kubelet must restart it.
- hang: a helper process in the container ptrace-seizes every thread of PID 1 and interrupts it
  (PTRACE_SEIZE + PTRACE_INTERRUPT send no signal, so PID 1's signal rules do not apply; same
  UID, no capability needed). The process is frozen, not dead: only the liveness probe can notice.
- database cut for one pod: a `reject` line for that pod's IP at the top of pg_hba.conf, a config
  reload, and its open connections terminated. Rollback removes the line by its marker.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chaosk8s.pod.actions import exec_in_pods

from taskflow_chaos.checks import check, outcome
from taskflow_chaos.clock import event, fault_clock
from taskflow_chaos.pods import core, pod_states, remembered
from taskflow_chaos.target import target_of

HBA_MARKER = "taskflow-chaos"

CRASH_SCRIPT = r"""
import ctypes, os, signal
PTRACE_SEIZE, PTRACE_CONT, WALL, SYS_TGKILL = 0x4206, 7, 0x40000000, 234
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(PTRACE_SEIZE, 1, 0, 0) != 0:
    raise SystemExit(f"ptrace seize of PID 1 failed: errno {ctypes.get_errno()}")
libc.syscall(SYS_TGKILL, 1, 1, signal.SIGUSR1)
_, status = os.waitpid(1, WALL)
if not os.WIFSTOPPED(status):
    raise SystemExit(f"PID 1 did not stop: status {status}")
print(f"PID 1 stopped by signal {os.WSTOPSIG(status)}; resuming it with SIGKILL", flush=True)
libc.ptrace(PTRACE_CONT, 1, 0, signal.SIGKILL)
"""

# Forks a tracer that outlives the exec session; the parent reports whether the seize worked.
HANG_SCRIPT = r"""
import ctypes, os, sys, time
PTRACE_SEIZE, PTRACE_INTERRUPT = 0x4206, 0x4207
read_end, write_end = os.pipe()
if os.fork():
    os.close(write_end)
    answer = os.read(read_end, 200).decode()
    print(answer)
    sys.exit(0 if answer.startswith("frozen") else 1)
os.close(read_end)
os.setsid()
# Let go of the exec session's output at once, so it ends when the parent has reported.
devnull = os.open(os.devnull, os.O_RDWR)
for stream in (0, 1, 2):
    os.dup2(devnull, stream)
libc = ctypes.CDLL(None, use_errno=True)
frozen = []
for tid in sorted(int(t) for t in os.listdir("/proc/1/task")):
    if libc.ptrace(PTRACE_SEIZE, tid, 0, 0) != 0 or libc.ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0:
        os.write(write_end, f"ptrace of thread {tid} failed: errno {ctypes.get_errno()}".encode())
        os._exit(1)
    frozen.append(tid)
os.write(write_end, f"frozen threads {frozen} of PID 1".encode())
os.close(write_end)
while True:
    time.sleep(3600)
"""

_chosen: dict[str, str] = {}


def _first_ready_pod(label_selector: str, namespace: str, secrets: Mapping[str, Any] | None) -> Any:
    pods = core(secrets).list_namespaced_pod(namespace, label_selector=label_selector).items
    ready = sorted(
        (
            pod
            for pod in pods
            if pod.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        ),
        key=lambda pod: pod.metadata.name,
    )
    if not ready:
        raise RuntimeError(f"no ready pod matches {label_selector!r} in namespace {namespace}")
    return ready[0]


def _exec(
    pod_name: str, container: str, command: list[str], namespace: str, secrets: Mapping[str, Any] | None
) -> dict[str, Any]:
    results = exec_in_pods(
        command,
        name_pattern=f"^{pod_name}$",
        ns=namespace,
        container_name=container,
        request_timeout=30,
        secrets=secrets,
    )
    if not results:
        raise RuntimeError(f"pod {pod_name} has no container {container}")
    result: dict[str, Any] = results[0]
    return result


def crash_main_process(
    label_selector: str,
    container: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    namespace = target_of(configuration).namespace
    pod = _first_ready_pod(label_selector, namespace, secrets)
    fault_clock()
    try:
        result: Any = _exec(pod.metadata.name, container, ["python", "-c", CRASH_SCRIPT], namespace, secrets)
    except Exception as error:  # the exec may die with the container it crashed
        result = f"exec ended with the container: {type(error).__name__}: {error}"
    return {
        "pod": pod.metadata.name,
        "exec": result,
        "events": [event(f"PID 1 of {pod.metadata.name} killed")],
    }


def hang_main_process(
    label_selector: str,
    container: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    namespace = target_of(configuration).namespace
    pod = _first_ready_pod(label_selector, namespace, secrets)
    fault_clock()
    result = _exec(pod.metadata.name, container, ["python", "-c", HANG_SCRIPT], namespace, secrets)
    if "frozen" not in str(result.get("stdout", "")):
        raise RuntimeError(f"could not freeze PID 1 of {pod.metadata.name}: {result}")
    _chosen["hung"] = pod.metadata.name
    return {
        "pod": pod.metadata.name,
        "exec": result,
        "events": [event(f"PID 1 of {pod.metadata.name} frozen")],
    }


def cut_database_for_one_pod(
    label_selector: str,
    database_pod: str = "postgres-0",
    database_container: str = "postgres",
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The database rejects one pod of the selector (its IP) and drops its open connections."""
    namespace = target_of(configuration).namespace
    pod = _first_ready_pod(label_selector, namespace, secrets)
    address = pod.status.pod_ip
    _chosen["cut"] = pod.metadata.name
    fault_clock()
    script = (
        f'sed -i "1i host all all {address}/32 reject # {HBA_MARKER}" "$PGDATA/pg_hba.conf" && '
        'PGPASSWORD="$POSTGRES_PASSWORD" psql -v ON_ERROR_STOP=1 -qAt -h /var/run/postgresql '
        '-U "$POSTGRES_USER" -d "$POSTGRES_DB" '
        f'-c "SELECT pg_reload_conf()" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity '
        f"WHERE client_addr = '{address}'\""
    )
    result = _exec(database_pod, database_container, ["sh", "-c", script], namespace, secrets)
    if result.get("exit_code") not in (0, "0"):
        raise RuntimeError(f"could not cut {pod.metadata.name} off the database: {result}")
    return {
        "pod": pod.metadata.name,
        "pod_ip": address,
        "exec": result,
        "events": [event(f"database rejects {pod.metadata.name} ({address})")],
    }


def restore_database(
    database_pod: str = "postgres-0",
    database_container: str = "postgres",
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Remove every line this module added to pg_hba.conf and reload (safe to run any time)."""
    namespace = target_of(configuration).namespace
    script = (
        f'sed -i "/# {HBA_MARKER}$/d" "$PGDATA/pg_hba.conf" && '
        'PGPASSWORD="$POSTGRES_PASSWORD" psql -qAt -h /var/run/postgresql -U "$POSTGRES_USER" '
        '-d "$POSTGRES_DB" -c "SELECT pg_reload_conf()"'
    )
    result = _exec(database_pod, database_container, ["sh", "-c", script], namespace, secrets)
    return {"exec": result, "events": [event("database accepts every pod again")]}


def chosen_pod(role: str) -> str | None:
    """The pod a fault of this process picked ("hung", "cut")."""
    return _chosen.get(role)


LOCAL_GET_SCRIPT = """
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).status)
except urllib.error.HTTPError as error:
    print(error.code)
except Exception as error:
    print(type(error).__name__)
"""


def wait_local_endpoint_fails(
    role: str,
    container: str,
    criterion: str,
    *,
    url: str,
    timeout: float = 30,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Fault proof from inside the picked pod: `url` (e.g. its own /readyz) stops answering 200."""
    namespace = target_of(configuration).namespace
    pod_name = _chosen.get(role)
    started = fault_clock()
    answer = "no pod picked"
    failed_at: float | None = None
    while pod_name and time.time() - started < timeout:
        result = _exec(pod_name, container, ["python", "-c", LOCAL_GET_SCRIPT, url, "2"], namespace, secrets)
        answer = str(result.get("stdout", "")).strip() or str(result.get("stderr", ""))
        if answer != "200":
            failed_at = time.time()
            break
        time.sleep(1)
    return outcome(
        check(
            criterion,
            f"fault observed: {url} inside the {role} pod no longer answers 200",
            ok=failed_at is not None,
            metric="answer",
            value=answer,
            budget="not 200",
            detail=f"pod {pod_name}"
            + (f", {round(failed_at - started, 2)} s after the fault" if failed_at else ""),
            fault=True,
        ),
        events=[event(f"{url} in {pod_name}: {answer}")] if failed_at else [],
    )


def delete_pod_if_still_hung(
    label_selector: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Rollback of the hang: a frozen pod nobody restarted (no liveness probe) is deleted."""
    pod_name = _chosen.get("hung")
    if pod_name is None:
        return {"deleted": None}
    namespace = target_of(configuration).namespace
    before = {state.name: state.restarts for state in remembered(label_selector).values()}
    now = {
        state.name: state.restarts for state in pod_states(core(secrets), namespace, label_selector).values()
    }
    if pod_name in now and now[pod_name] <= before.get(pod_name, 0):
        core(secrets).delete_namespaced_pod(pod_name, namespace, grace_period_seconds=0)
        return {"deleted": pod_name, "events": [event(f"still-frozen {pod_name} deleted")]}
    return {"deleted": None}
