"""What the cluster does while load runs, sampled every 5 s in a thread of its own.

Per sample: the backend HPA's desired and current replicas and its CPU reading, the backend
Deployment's ready replicas, each backend pod's CPU from the metrics API (metrics.k8s.io), and this
host's busy CPU and the Locust process's CPU (from /proc), since the machine is shared.
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
            try:
                sample = self._sample(kube, host_busy, locust_cores)
            except Exception as error:
                self.errors.append(f"{time.strftime('%H:%M:%S')}: {type(error).__name__}: {error}"[:300])
                continue
            self.samples.append(sample)
            with self.out_file.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(asdict(sample)) + "\n")

    def _sample(self, kube: Kube, host_busy: float | None, locust_cores: float | None) -> ClusterSample:
        hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(self.deployment, self.namespace)
        cpu_percent = None
        for metric in hpa.status.current_metrics or []:
            if metric.resource and metric.resource.name == "cpu" and metric.resource.current:
                cpu_percent = metric.resource.current.average_utilization
        workload = kube.apps.read_namespaced_deployment_status(self.deployment, self.namespace)
        return ClusterSample(
            time=round(time.time(), 2),
            hpa_desired=hpa.status.desired_replicas,
            hpa_current=hpa.status.current_replicas,
            hpa_cpu_percent=cpu_percent,
            ready_replicas=workload.status.ready_replicas or 0,
            pod_cpu_millicores=self._pod_cpu(kube),
            host_busy_cores=round(host_busy, 2) if host_busy is not None else None,
            locust_cores=round(locust_cores, 3) if locust_cores is not None else None,
        )

    def _pod_cpu(self, kube: Kube) -> dict[str, float]:
        from kubernetes.client import ApiException  # noqa: PLC0415

        try:
            listed: dict[str, Any] = kube.custom.list_namespaced_custom_object(
                "metrics.k8s.io",
                "v1beta1",
                self.namespace,
                "pods",
                label_selector=f"app.kubernetes.io/name={self.deployment}",
            )
        except ApiException as error:
            if error.status in (404, 503):
                return {}  # no metrics API (yet): the FR-005 verdict says so
            raise
        return {
            item["metadata"]["name"]: round(
                sum(millicores(container["usage"]["cpu"]) for container in item["containers"]), 1
            )
            for item in listed.get("items", [])
        }


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
