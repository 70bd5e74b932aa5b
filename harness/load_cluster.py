"""Locust's own distributed mode as pods in the run's namespace: one master, N workers.

For load one machine cannot generate (`nox -s load -- capacity --workers N`). The pods run the same
load/ files (a ConfigMap) with the Locust image built from load/image/; the master runs the shape
and writes the same timeline, summary, HTML report and CSV files as a local run, which are copied
back into the run folder, so everything after the run reads a LoadRun exactly as before.

The pods pass the namespace's `restricted` Pod Security profile (non-root, no privilege escalation,
all capabilities dropped, RuntimeDefault seccomp, read-only root) and carry requests and limits.
Two NetworkPolicies open exactly master <-> workers and Locust -> backend:8000 on top of the
namespace's deny-all. Target: the backend Service, in plain HTTP. On the embedded cluster the
ingress (Traefik, a host process) listens on the host's loopback only, which no pod can reach.
Everything is labelled with the run's id and removed on success, failure and Ctrl-C.
"""

from __future__ import annotations

import shlex
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.kube import Kube, exec_in_pod
from harness.loadrun import LOAD_DIR, PROGRESS_EVERY_SECONDS, LoadRun, progress_line
from harness.providers import Provider

NAME = "locust"
MASTER = "locust-master"
MASTER_PORT = 5557
RUN_LABEL = "taskflow.local/load-run"
LOAD_FILES = ("locustfile.py", "taskflow_profiles.py")
OUT = "/out"
POLL_SECONDS = 5.0
START_TIMEOUT_SECONDS = 180.0
EXPECT_WORKERS_SECONDS = 120
GONE_TIMEOUT_SECONDS = 60.0
# What a local run leaves in its folder (harness.loadrun), copied back from the master.
OUTPUT_SUFFIXES = (
    "-summary.json",
    "-timeline.jsonl",
    ".html",
    ".log",
    "_stats.csv",
    "_stats_history.csv",
    "_failures.csv",
    "_exceptions.csv",
)


@dataclass(frozen=True)
class LocustPods:
    """Where and how the pods run: namespace, image, worker count, the run's id (labels)."""

    namespace: str
    image: str
    workers: int
    run_id: str = ""

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": NAME, RUN_LABEL: self.run_id}

    @property
    def selector(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"

    def target_url(self) -> str:
        return f"http://backend.{self.namespace}.svc:8000"


def new_pods(namespace: str, image: str, workers: int) -> LocustPods:
    if workers < 1:
        raise UserError(
            f"--workers {workers}: a distributed run needs at least one worker", fix="--workers 2"
        )
    return LocustPods(namespace, image, workers, uuid.uuid4().hex[:8])


def security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod(pods: LocustPods, name: str, component: str, command: list[str], cpu_limit: str) -> dict[str, Any]:
    mounts = [
        {"name": "load", "mountPath": "/load", "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "load", "configMap": {"name": NAME + "-files-" + pods.run_id}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    if component == "master":
        mounts.append({"name": "out", "mountPath": OUT})
        volumes.append({"name": "out", "emptyDir": {"sizeLimit": "128Mi"}})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": pods.namespace,
            "labels": {**pods.labels, "app.kubernetes.io/component": component},
        },
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 5,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "locust",
                    "image": pods.image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": command,
                    "securityContext": security_context(),
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
                        "limits": {"cpu": cpu_limit, "memory": "512Mi", "ephemeral-storage": "256Mi"},
                    },
                    "volumeMounts": mounts,
                }
            ],
            "volumes": volumes,
        },
    }


def master_script(pods: LocustPods, shape_args: list[str]) -> str:
    """Run the master, record its exit code, then stay up until the harness has copied the outputs."""
    locust = [
        "python", "-m", "locust", "-f", "/load/locustfile.py", "--master", "--headless",
        "--expect-workers", str(pods.workers), "--expect-workers-max-wait", str(EXPECT_WORKERS_SECONDS),
        "--master-bind-port", str(MASTER_PORT), "--host", pods.target_url(),
        "--html", f"{OUT}/locust.html", "--csv", f"{OUT}/locust",
        "--timeline", f"{OUT}/locust-timeline.jsonl", "--summary-file", f"{OUT}/locust-summary.json",
        "--only-summary", "--exit-code-on-error", "1", *shape_args,
    ]  # fmt: skip
    return f"{shlex.join(locust)} > {OUT}/locust.log 2>&1; echo $? > {OUT}/exit-code; exec sleep 3600"


def worker_command(pods: LocustPods, shape_args: list[str]) -> list[str]:
    # The user class is chosen when the worker starts (configure()), so --stress goes here too.
    stress = ["--stress"] if "--stress" in shape_args else []
    return [
        "python", "-m", "locust", "-f", "/load/locustfile.py", "--worker", "--master-host",
        f"{MASTER}-{pods.run_id}", "--master-port", str(MASTER_PORT), "--host", pods.target_url(), *stress,
    ]  # fmt: skip


def network_policies(pods: LocustPods) -> list[dict[str, Any]]:
    """Master <-> workers on 5557 and Locust -> backend:8000; the namespace denies the rest."""
    locust = {"matchLabels": {"app.kubernetes.io/name": NAME}}
    backend = {"matchLabels": {"app.kubernetes.io/name": "backend"}}
    meta = {"namespace": pods.namespace, "labels": pods.labels}
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{NAME}-{pods.run_id}", **meta},
            "spec": {
                "podSelector": locust,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": locust}], "ports": [{"port": MASTER_PORT}]}],
                "egress": [
                    {"to": [{"podSelector": locust}], "ports": [{"port": MASTER_PORT}]},
                    {"to": [{"podSelector": backend}], "ports": [{"port": 8000}]},
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"backend-from-{NAME}-{pods.run_id}", **meta},
            "spec": {
                "podSelector": backend,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": locust}], "ports": [{"port": 8000}]}],
            },
        },
    ]


def manifests(pods: LocustPods, shape_args: list[str], load_dir: Path = LOAD_DIR) -> list[dict[str, Any]]:
    meta = {"namespace": pods.namespace, "labels": pods.labels}
    files = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{NAME}-files-{pods.run_id}", **meta},
        "data": {name: (load_dir / name).read_text(encoding="utf-8") for name in LOAD_FILES},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{MASTER}-{pods.run_id}", **meta},
        "spec": {
            "selector": {**pods.labels, "app.kubernetes.io/component": "master"},
            "ports": [{"name": "locust", "port": MASTER_PORT, "targetPort": MASTER_PORT}],
        },
    }
    master = pod(
        pods, f"{MASTER}-{pods.run_id}", "master", ["sh", "-c", master_script(pods, shape_args)], "1"
    )
    workers = [
        pod(pods, f"{NAME}-worker-{pods.run_id}-{index}", "worker", worker_command(pods, shape_args), "1")
        for index in range(pods.workers)
    ]
    return [*network_policies(pods), files, service, master, *workers]


def run_locust_in_cluster(
    kube: Kube,
    pods: LocustPods,
    out_dir: Path,
    shape_args: list[str],
    *,
    timeout: float,
    prefix: str = "locust",
) -> LoadRun:
    """Start master and workers, wait for the master's exit code (with progress), copy its outputs
    into `out_dir` under the names a local run uses, remove every object it created."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    run = LoadRun(out_dir, prefix)
    for stale in (run.timeline_file, run.summary_file):
        stale.unlink(missing_ok=True)
    master = f"{MASTER}-{pods.run_id}"
    print(
        f"  load: Locust distributed in {pods.namespace}: 1 master + {pods.workers} workers "
        f"({pods.image}) against {pods.target_url()}",
        file=sys.stderr,
        flush=True,
    )
    run.started = time.time()
    try:
        try:
            kube.apply_all(manifests(pods, shape_args))
        except Exception as error:
            raise UserError(
                f"the cluster refused the Locust pods: {str(getattr(error, 'body', '') or error)[:300]}",
                where=f"namespace {pods.namespace}",
                fix="read the message (Pod Security, quota or limits) and adjust harness/load_cluster.py",
            ) from None
        run.returncode = wait_for_master(kube, pods, master, run, timeout)
        copy_outputs(kube, pods, master, run)
    finally:
        run.finished = time.time()
        remove(kube, pods)
        run.read_outputs()
    return run


def master_exit_code(kube: Kube, pods: LocustPods, master: str) -> int | None:
    """The master's exit code once Locust ended in its pod; None while it runs."""
    status = kube.core.read_namespaced_pod_status(master, pods.namespace).status
    terminated = next(
        (c.state.terminated for c in status.container_statuses or [] if c.state and c.state.terminated), None
    )
    if terminated is not None:
        raise UserError(
            "the Locust master pod ended before the run did "
            f"({terminated.reason}, exit {terminated.exit_code})",
            where=f"pod {pods.namespace}/{master}",
            fix="read its log: kubectl -n NS logs POD",
        )
    if status.phase != "Running":
        return None
    answer = exec_in_pod(
        kube, pods.namespace, master, ["sh", "-c", f"cat {OUT}/exit-code 2>/dev/null || true"]
    )
    return int(answer.strip()) if answer.strip().isdigit() else None


def not_started_reason(kube: Kube, pods: LocustPods) -> str:
    """Why a Locust pod is still not running (image, scheduling), for the start timeout."""
    reasons = []
    for item in kube.core.list_namespaced_pod(pods.namespace, label_selector=pods.selector).items:
        for status in item.status.container_statuses or []:
            if status.state and status.state.waiting:
                reasons.append(f"{item.metadata.name}: {status.state.waiting.reason}")
        if item.status.phase == "Pending" and not item.status.container_statuses:
            reasons.append(f"{item.metadata.name}: Pending")
    return "; ".join(reasons) or "pods not listed yet"


def wait_for_master(kube: Kube, pods: LocustPods, master: str, run: LoadRun, timeout: float) -> int:
    started = time.monotonic()
    next_progress = started + PROGRESS_EVERY_SECONDS
    running_since: float | None = None
    while True:
        code = master_exit_code(kube, pods, master)
        if code is not None:
            return code
        now = time.monotonic()
        phase = kube.core.read_namespaced_pod_status(master, pods.namespace).status.phase
        if phase == "Running" and running_since is None:
            running_since = now
        if running_since is None and now - started > START_TIMEOUT_SECONDS:
            raise UserError(
                f"the Locust pods did not start within {START_TIMEOUT_SECONDS:.0f} s: "
                + not_started_reason(kube, pods),
                where=f"namespace {pods.namespace}",
                fix="is the locust image loaded into the cluster (python -m harness.images)?",
            )
        if running_since is not None and now - running_since > timeout:
            raise UserError(
                f"Locust ran past its {timeout:.0f} s budget in the cluster",
                where=f"pod {pods.namespace}/{master}",
                fix="read locust.log in the run folder; the shape's phases should end well within the budget",
            )
        if now >= next_progress:
            next_progress = now + PROGRESS_EVERY_SECONDS
            fetch(kube, pods, master, f"{OUT}/locust-timeline.jsonl", run.timeline_file)
            print(f"  … load (cluster): {progress_line(run)}", file=sys.stderr, flush=True)
        time.sleep(POLL_SECONDS)


def fetch(kube: Kube, pods: LocustPods, master: str, source: str, destination: Path) -> bool:
    text = exec_in_pod(kube, pods.namespace, master, ["sh", "-c", f"cat {shlex.quote(source)} 2>/dev/null"])
    if not text:
        return False
    destination.write_text(text, encoding="utf-8")
    return True


def copy_outputs(kube: Kube, pods: LocustPods, master: str, run: LoadRun) -> None:
    for suffix in OUTPUT_SUFFIXES:
        fetch(kube, pods, master, f"{OUT}/locust{suffix}", run.path(suffix))
    for item in kube.core.list_namespaced_pod(pods.namespace, label_selector=pods.selector).items:
        if item.metadata.labels.get("app.kubernetes.io/component") == "worker":
            log = kube.core.read_namespaced_pod_log(item.metadata.name, pods.namespace)
            run.path(f"-{item.metadata.name.rsplit('-', 1)[-1]}.worker.log").write_text(log, encoding="utf-8")


def remove(kube: Kube, pods: LocustPods) -> None:
    """Delete everything this run created (by its label) and wait until its pods are gone."""
    from kubernetes.client import ApiException  # noqa: PLC0415

    namespace, selector = pods.namespace, pods.selector
    deletions: list[Callable[[], object]] = [
        lambda: kube.core.delete_collection_namespaced_pod(
            namespace, label_selector=selector, grace_period_seconds=0
        ),
        lambda: kube.networking.delete_collection_namespaced_network_policy(
            namespace, label_selector=selector
        ),
        lambda: kube.core.delete_collection_namespaced_config_map(namespace, label_selector=selector),
    ]
    for delete in deletions:
        try:
            delete()
        except ApiException as error:
            if error.status != 404:
                raise
    for service in kube.core.list_namespaced_service(namespace, label_selector=selector).items:
        kube.core.delete_namespaced_service(service.metadata.name, namespace)
    deadline = time.monotonic() + GONE_TIMEOUT_SECONDS
    while kube.core.list_namespaced_pod(namespace, label_selector=selector).items:
        if time.monotonic() > deadline:
            print(f"  ! Locust pods ({selector}) still terminating in {namespace}", file=sys.stderr)
            return
        time.sleep(1)


def left_over(kube: Kube, namespace: str) -> list[str]:
    """Objects of any distributed load run still in the namespace (none after a run)."""
    selector = RUN_LABEL
    found = [
        f"pod/{p.metadata.name}"
        for p in kube.core.list_namespaced_pod(namespace, label_selector=selector).items
    ]
    found += [
        f"service/{s.metadata.name}"
        for s in kube.core.list_namespaced_service(namespace, label_selector=selector).items
    ]
    found += [
        f"configmap/{c.metadata.name}"
        for c in kube.core.list_namespaced_config_map(namespace, label_selector=selector).items
    ]
    found += [
        f"networkpolicy/{n.metadata.name}"
        for n in kube.networking.list_namespaced_network_policy(namespace, label_selector=selector).items
    ]
    return found


def locust_image(provider: Provider) -> str:
    """The Locust image (load/image/), built or from the cache, loaded where the cluster finds it."""
    from harness.images.apps import LOCUST, build_app  # noqa: PLC0415 - heavy, only for real runs

    built = build_app(LOCUST)
    provider.load_archives([built.archive])
    return provider.image_reference(built.reference)
