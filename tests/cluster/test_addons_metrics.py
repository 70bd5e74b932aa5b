"""Resource metrics (metrics-server add-on): the metrics API answers and an HPA on CPU scales up."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

from harness.cluster.configs import NODE_NAME

from .kube import Kube, echo_manifest


def _pod_metrics(cluster: Kube, namespace: str, pod: str) -> dict[str, Any] | None:
    raw = cluster.run(
        "get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{pod}", check=False
    )
    try:
        data = json.loads(raw)
    except ValueError:  # not served yet: kubectl printed nothing
        return None
    return data if isinstance(data, dict) else None


def test_metrics_api_answers_for_node_and_pod(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    name = pod["metadata"]["name"]

    def pod_has_usage() -> str | None:
        metrics = _pod_metrics(cluster, namespace, name)
        if not metrics or not metrics.get("containers"):
            return "no pod metrics yet"
        return None

    # metrics-server scrapes every 10s; a new pod appears after one or two scrapes
    cluster.wait_for(f"metrics of pod {name}", pod_has_usage, timeout=90)
    usage = (_pod_metrics(cluster, namespace, name) or {})["containers"][0]["usage"]
    assert {"cpu", "memory"} <= usage.keys()
    top = cluster.run("top", "node", NODE_NAME, "--no-headers")
    assert top.split()[0] == NODE_NAME


HPA = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burn}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0}
"""


def _burn(url: str, stop: threading.Event, deadline: float) -> None:
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                resp.read()
        except OSError:
            time.sleep(0.5)


def test_hpa_scales_up_a_cpu_burning_deployment(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, name="burn", replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=burn", 1)
    cluster.apply(HPA, namespace)
    # load from the node straight to the pod (our own pod IP): the request is 10m CPU, the
    # limit 200m, so two busy requests put utilisation far above the 50% target
    url = f"http://{pod['status']['podIP']}:8080/burn?ms=2000"
    stop = threading.Event()
    deadline = time.monotonic() + 150
    workers = [threading.Thread(target=_burn, args=(url, stop, deadline), daemon=True) for _ in range(2)]
    for worker in workers:
        worker.start()

    def scaled_up() -> str | None:
        hpa = cluster.json("-n", namespace, "get", "hpa", "burn")
        desired = hpa.get("status", {}).get("desiredReplicas", 0)
        current = hpa.get("status", {}).get("currentMetrics") or "no metrics yet"
        return None if desired > 1 else f"desiredReplicas={desired}, current={current}"

    try:
        cluster.wait_for("the HPA to scale burn above 1 replica", scaled_up, timeout=140)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)
    replicas = cluster.json("-n", namespace, "get", "deployment", "burn")["spec"]["replicas"]
    assert replicas > 1
