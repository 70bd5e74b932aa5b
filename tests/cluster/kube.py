"""A small kubectl wrapper for the cluster tests: every wait has a timeout and says what for."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cluster.context import Context
from harness.cluster.paths import Layout


@dataclass(frozen=True)
class Kube:
    kubectl: Path
    kubeconfig: Path
    layout: Layout

    def run(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60) -> str:
        proc = subprocess.run(
            [str(self.kubectl), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json"))

    def apply(self, manifest: str, namespace: str) -> None:
        self.run("-n", namespace, "apply", "-f", "-", stdin=manifest)

    def load_image(self, tar: Path) -> None:
        Context(self.layout).load_image(tar)

    def wait_for(self, what: str, check: Callable[[], str | None], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        reason: str | None = "not checked"
        while time.monotonic() < deadline:
            reason = check()
            if reason is None:
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}: {reason}")

    def ready_pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        pods = self.json("-n", namespace, "get", "pods", "-l", selector)["items"]
        return [
            p
            for p in pods
            if p["metadata"].get("deletionTimestamp") is None
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
        ]

    def wait_ready_pods(self, namespace: str, selector: str, count: int, timeout: float = 90) -> list[Any]:
        self.wait_for(
            f"{count} ready pod(s) {selector} in {namespace}",
            lambda: (
                None
                if len(self.ready_pods(namespace, selector)) >= count
                else f"{len(self.ready_pods(namespace, selector))} ready"
            ),
            timeout,
        )
        return self.ready_pods(namespace, selector)


def echo_manifest(image: str, name: str = "echo", replicas: int = 2) -> str:
    """Deployment + ClusterIP Service of the test image (restricted-PSS compliant)."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {{type: RuntimeDefault}}
      containers:
      - name: app
        image: {image}
        imagePullPolicy: Never
        args: [serve]
        ports: [{{containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /healthz, port: 8080}}, periodSeconds: 1}}
        resources:
          requests: {{cpu: 10m, memory: 16Mi}}
          limits: {{cpu: 200m, memory: 64Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {{drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""
