"""A probe pod in the namespace under test: DNS and HTTP from where the services' clients are."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from harness.kube import Kube, exec_in_pod, wait_until

PROBE_NAME = "conformance-probe"
PROBE_LABELS = {"app.kubernetes.io/name": PROBE_NAME, "app.kubernetes.io/part-of": "taskflow-conformance"}
RESTRICTED_CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def probe_manifests(namespace: str, image: str) -> list[dict[str, Any]]:
    """The probe pod plus the NetworkPolicy that lets it (and only it) reach every pod for checks."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": PROBE_NAME, "namespace": namespace, "labels": PROBE_LABELS},
        "spec": {
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["python3", "-c", "import signal; signal.pause()"],
                    "resources": {
                        "requests": {"cpu": "20m", "memory": "32Mi"},
                        "limits": {"cpu": "500m", "memory": "128Mi"},
                    },
                    "securityContext": RESTRICTED_CONTAINER_SECURITY,
                }
            ],
        },
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"allow-{PROBE_NAME}", "namespace": namespace},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": PROBE_NAME}}}]}],
            "egress": [
                {"to": [{"podSelector": {}}]},
                {
                    "to": [{"namespaceSelector": {}}],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
            ],
        },
    }
    return [policy, pod]


@dataclass
class Probe:
    kube: Kube
    namespace: str

    def start(self, image: str, timeout: float = 120) -> float:
        for manifest in probe_manifests(self.namespace, image):
            self.kube.apply(manifest)
        return wait_until(
            f"probe pod {self.namespace}/{PROBE_NAME} to run", self._not_running, timeout=timeout
        )

    def _not_running(self) -> str | None:
        pod = self.kube.core.read_namespaced_pod(PROBE_NAME, self.namespace)
        ready = any(c.ready for c in pod.status.container_statuses or [])
        return None if ready else f"phase {pod.status.phase}"

    def run(self, command: str, **arguments: Any) -> Any:
        output = exec_in_pod(self.kube, self.namespace, PROBE_NAME, self._agent_command(command, **arguments))
        try:
            return json.loads(output.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError) as error:
            raise AssertionError(f"probe {command} printed no JSON: {output[-2000:]!r}") from error

    def resolve(self, *names: str) -> dict[str, Any]:
        result: dict[str, Any] = self.run("resolve", names=list(names))
        return result

    def request(
        self, url: str, method: str = "GET", body: Any = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        result: dict[str, Any] = self.run("request", url=url, method=method, body=body, headers=headers)
        return result

    def repeat(self, url: str, count: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.run("repeat", url=url, count=count)
        return result

    def _agent_command(self, command: str, **arguments: Any) -> list[str]:
        source = resources.files("harness").joinpath("probe_agent.py").read_text(encoding="utf-8")
        return ["python3", "-c", source, command, json.dumps(arguments)]

    def watch(
        self,
        targets: dict[str, dict[str, Any]],
        on_result: Callable[[str, float, dict[str, Any]], None],
        stop: threading.Event,
    ) -> threading.Thread:
        """Stream the agent's `watch` (one request per target per second) until stop is set.

        on_result(target, started_at, result) gets each request, started_at being this machine's
        wall-clock time the request started (receipt time minus its duration). A broken stream is
        reopened; the gap shows as missing samples, never as made-up ones.
        """

        def follow() -> None:
            while not stop.is_set():
                try:
                    stream_once()
                except Exception as error:  # API hiccup or pod restart: reopen, never die
                    print(f"  uptime probe stream reopened after {type(error).__name__}: {error}")
                stop.wait(1)

        def stream_once() -> None:
            from kubernetes.stream import stream  # noqa: PLC0415 - patches the client; keep it local

            connection = stream(
                self.kube.exec_core.connect_get_namespaced_pod_exec,
                PROBE_NAME,
                self.namespace,
                command=self._agent_command("watch", targets=targets),
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
            )
            pending = ""
            try:
                while connection.is_open() and not stop.is_set():
                    connection.update(timeout=1)
                    if not connection.peek_stdout():
                        continue
                    pending += connection.read_stdout()
                    *lines, pending = pending.split("\n")
                    received = time.time()
                    for line in lines:
                        if line.strip():
                            result = json.loads(line)
                            on_result(result["target"], received - float(result["seconds"]), result)
            finally:
                connection.close()

        thread = threading.Thread(target=follow, name="uptime probe stream", daemon=True)
        thread.start()
        return thread
