"""What the cluster does while load runs, sampled every 5 s in a thread of its own.

Per sample: the backend HPA's desired and current replicas and its CPU reading, the backend
Deployment's ready replicas, each backend pod's CPU from the metrics API (metrics.k8s.io), the
namespace's CPU per app (postgres, mcp-server, ...), and from /proc this host's busy CPU, the Locust
process's CPU and the ingress controller's when it runs on this host (the embedded cluster's
Traefik), since the machine is shared: what is left is other work on the host.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.deployment import Deployment
from harness.ingress_client import INGRESS_HOST
from harness.kube import Kube
from harness.loadrun import LoadTarget

SAMPLE_SECONDS = 5.0
INGRESS_PROCESS = "traefik"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ClusterSample:
    time: float
    hpa_desired: int | None
    hpa_current: int | None
    hpa_cpu_percent: int | None
    ready_replicas: int
    pod_cpu_millicores: dict[str, float]
    """Backend pod name -> CPU (millicores) from the metrics API; empty when it has none."""
    host_busy_cores: float | None
    locust_cores: float | None
    app_cpu_millicores: dict[str, float] = field(default_factory=dict)
    """App (app.kubernetes.io/name) -> CPU (millicores) of all its pods in the namespace."""
    ingress_cores: float | None = None
    """The ingress controller's host process (Traefik on the embedded cluster); None elsewhere."""

    @property
    def other_cores(self) -> float | None:
        """Busy host CPU that is neither Locust, nor the ingress, nor this namespace's pods."""
        if self.host_busy_cores is None:
            return None
        ours = (self.locust_cores or 0) + (self.ingress_cores or 0)
        ours += sum(self.app_cpu_millicores.values()) / 1000
        return round(max(self.host_busy_cores - ours, 0.0), 2)


def host_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of pid and its waited-for children; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    """PIDs of processes whose command name is `name` (from /proc/<pid>/comm)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def millicores(quantity: str) -> float:
    """A Kubernetes CPU quantity ('250m', '12345678n', '1') in millicores."""
    units = {"n": 1e-6, "u": 1e-3, "m": 1.0}
    if quantity and quantity[-1] in units:
        return float(quantity[:-1]) * units[quantity[-1]]
    return float(quantity) * 1000


@dataclass
class ClusterSampler:
    kube: Kube
    namespace: str
    out_file: Path
    deployment: str = "backend"
    locust_pid: int = 0
    ingress_process: str = INGRESS_PROCESS
    samples: list[ClusterSample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cluster-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> list[ClusterSample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return self.samples

    def _loop(self) -> None:
        kube = self.kube.clone()  # clients of its own: this runs beside the test thread
        busy_before, total_before = host_cpu_ticks()
        locust_before: float | None = None
        ingress_pids = pids_named(self.ingress_process)
        ingress_before = self._cpu_of(ingress_pids)
        while not self._stop.wait(0 if not self.samples else SAMPLE_SECONDS):
            busy, total = host_cpu_ticks()
            host_busy = (
                (busy - busy_before) / (total - total_before) * (os.cpu_count() or 1)
                if total > total_before
                else None
            )
            busy_before, total_before = busy, total
            locust_now = process_cpu_seconds(self.locust_pid) if self.locust_pid else None
            locust_cores = None
            if locust_now is not None and locust_before is not None:
                locust_cores = (locust_now - locust_before) / SAMPLE_SECONDS
            locust_before = locust_now
            ingress_now = self._cpu_of(ingress_pids)
            ingress_cores = None
            if ingress_now is not None and ingress_before is not None:
                ingress_cores = round((ingress_now - ingress_before) / SAMPLE_SECONDS, 3)
            ingress_before = ingress_now
            try:
                sample = self._sample(kube, host_busy, locust_cores, ingress_cores)
            except Exception as error:
                self.errors.append(f"{time.strftime('%H:%M:%S')}: {type(error).__name__}: {error}"[:300])
                continue
            self.samples.append(sample)
            with self.out_file.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps({**asdict(sample), "other_cores": sample.other_cores}) + "\n")

    @staticmethod
    def _cpu_of(pids: list[int]) -> float | None:
        readings = [process_cpu_seconds(pid) for pid in pids]
        known = [reading for reading in readings if reading is not None]
        return sum(known) if known else None

    def _sample(
        self, kube: Kube, host_busy: float | None, locust_cores: float | None, ingress_cores: float | None
    ) -> ClusterSample:
        hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(self.deployment, self.namespace)
        cpu_percent = None
        for metric in hpa.status.current_metrics or []:
            if metric.resource and metric.resource.name == "cpu" and metric.resource.current:
                cpu_percent = metric.resource.current.average_utilization
        workload = kube.apps.read_namespaced_deployment_status(self.deployment, self.namespace)
        pod_cpu, app_cpu = self._cpu_by_pod(kube)
        return ClusterSample(
            time=round(time.time(), 2),
            hpa_desired=hpa.status.desired_replicas,
            hpa_current=hpa.status.current_replicas,
            hpa_cpu_percent=cpu_percent,
            ready_replicas=workload.status.ready_replicas or 0,
            pod_cpu_millicores=pod_cpu,
            host_busy_cores=round(host_busy, 2) if host_busy is not None else None,
            locust_cores=round(locust_cores, 3) if locust_cores is not None else None,
            app_cpu_millicores=app_cpu,
            ingress_cores=ingress_cores,
        )

    def _cpu_by_pod(self, kube: Kube) -> tuple[dict[str, float], dict[str, float]]:
        """(backend pod -> millicores, app -> millicores of all its pods) from the metrics API."""
        from kubernetes.client import ApiException  # noqa: PLC0415

        try:
            listed: dict[str, Any] = kube.custom.list_namespaced_custom_object(
                "metrics.k8s.io", "v1beta1", self.namespace, "pods"
            )
        except ApiException as error:
            if error.status in (404, 503):
                return {}, {}  # no metrics API (yet): the FR-005 verdict says so
            raise
        app_of = {
            pod.metadata.name: (pod.metadata.labels or {}).get("app.kubernetes.io/name", "other")
            for pod in kube.core.list_namespaced_pod(self.namespace).items
        }
        by_pod: dict[str, float] = {}
        by_app: dict[str, float] = {}
        for item in listed.get("items", []):
            name = item["metadata"]["name"]
            cpu = sum(millicores(container["usage"]["cpu"]) for container in item["containers"])
            app = app_of.get(name, "other")
            by_app[app] = round(by_app.get(app, 0.0) + cpu, 1)
            if app == self.deployment:
                by_pod[name] = round(cpu, 1)
        return by_pod, by_app


def metrics_api_missing(kube: Kube) -> str | None:
    """Why the HPA cannot read CPU here (no metrics.k8s.io API), or None when the API answers."""
    from kubernetes.client import ApiException  # noqa: PLC0415

    try:
        kube.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    except ApiException as error:
        if error.status in (404, 503):
            return (
                f"no metrics API (metrics.k8s.io answered {error.status}): the HPA cannot read CPU; "
                "install metrics-server (the harness's prerequisites step does) and run again"
            )
        raise
    return None


def ingress_target(deployment: Deployment, run_dir: Path, certificate_pem: str) -> LoadTarget:
    """The run's ingress for Locust: https://taskflow.local dialled at the provider's address,
    trusting only the run's own certificate (written next to the report)."""
    ca_file = run_dir / "taskflow-tls.crt"
    ca_file.write_text(certificate_pem, encoding="utf-8")
    port = deployment.ingress.port
    url = f"https://{INGRESS_HOST}" + ("" if port == 443 else f":{port}")
    return LoadTarget(url, deployment.ingress.address, ca_file)


@contextmanager
def sampling(deployment: Deployment, out_file: Path) -> Iterator[ClusterSampler]:
    """Sample the backend every 5 s while the block runs (out_file starts empty)."""
    out_file.unlink(missing_ok=True)
    sampler = ClusterSampler(deployment.kube, deployment.namespace, out_file)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()
