"""Pods run, reach each other through a ClusterIP, and come back when killed."""

from __future__ import annotations

import json
import subprocess

from .kube import Kube, echo_manifest


def _exec_get(cluster: Kube, namespace: str, pod: str, url: str) -> str:
    return cluster.run("-n", namespace, "exec", pod, "--", "/testimage", "get", url, timeout=30)


def test_pod_to_cluster_ip_to_pod(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=2), namespace)
    pods = cluster.wait_ready_pods(namespace, "app=echo", 2)
    cluster_ip = cluster.json("-n", namespace, "get", "svc", "echo")["spec"]["clusterIP"]
    client = pods[0]["metadata"]["name"]
    hosts = set()
    for _ in range(20):
        answer = json.loads(_exec_get(cluster, namespace, client, f"http://{cluster_ip}/"))
        hosts.add(answer["host"])
        if len(hosts) == 2:
            break
    # both endpoints answered through the Service VIP (kube-proxy's DNAT), including hairpin
    assert hosts == {p["metadata"]["name"] for p in pods}


def test_pod_to_pod_ip(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=2), namespace)
    a, b = cluster.wait_ready_pods(namespace, "app=echo", 2)[:2]
    answer = json.loads(
        _exec_get(cluster, namespace, a["metadata"]["name"], f"http://{b['status']['podIP']}:8080/")
    )
    assert answer["host"] == b["metadata"]["name"]
    assert answer["remote"].split(":")[0] == a["status"]["podIP"]


def test_deleted_pod_is_recreated_by_its_deployment(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    victim = pod["metadata"]["name"]
    cluster.run("-n", namespace, "delete", "pod", victim, "--grace-period=0", "--force", "--wait=false")
    cluster.wait_for(
        "a replacement pod to be Ready",
        lambda: (
            None
            if any(p["metadata"]["name"] != victim for p in cluster.ready_pods(namespace, "app=echo"))
            else "no replacement yet"
        ),
        timeout=60,
    )


def test_killed_container_is_restarted(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    container_id = pod["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1]
    ctr = [
        "ctr", "--address", str(cluster.layout.containerd_socket), "-n", "k8s.io",
        "tasks", "kill", "-s", "SIGKILL", container_id,
    ]  # fmt: skip
    subprocess.run(ctr, check=True, capture_output=True)
    name = pod["metadata"]["name"]

    def restarted() -> str | None:
        status = cluster.json("-n", namespace, "get", "pod", name)["status"]
        restarts = status["containerStatuses"][0]["restartCount"]
        ready = status["containerStatuses"][0]["ready"]
        return None if restarts >= 1 and ready else f"restartCount={restarts} ready={ready}"

    cluster.wait_for(f"{name} restarted after SIGKILL", restarted, timeout=60)
