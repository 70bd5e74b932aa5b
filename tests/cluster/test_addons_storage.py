"""Dynamic volumes (hostpath provisioner add-on): a PVC on the default StorageClass binds, its
data outlives the pod, and deleting the claim removes the volume."""

from __future__ import annotations

import urllib.request
import uuid
from pathlib import Path

from harness.cluster.addons import settings
from harness.cluster.configs import NODE_NAME

from .kube import Kube

MANIFEST = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: keeper}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: keeper}}
  template:
    metadata: {labels: {app: keeper}}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: app
        image: IMAGE
        imagePullPolicy: Never
        args: [serve]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        resources:
          requests: {cpu: 10m, memory: 16Mi}
          limits: {cpu: 200m, memory: 64Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: data, mountPath: /data}]
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
"""


def _file_url(pod: dict[str, object]) -> str:
    status = pod["status"]
    assert isinstance(status, dict)
    return f"http://{status['podIP']}:8080/file?path=/data/proof.txt"


def test_pvc_binds_dynamically_and_data_survives_the_pod(
    cluster: Kube, namespace: str, test_image: str
) -> None:
    default = cluster.json("get", "storageclass", settings.STORAGE_CLASS)
    assert default["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"

    cluster.apply(MANIFEST.replace("IMAGE", test_image), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=keeper", 1)
    claim = cluster.json("-n", namespace, "get", "pvc", "data")
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["storageClassName"] == settings.STORAGE_CLASS  # filled in as the default
    pv = cluster.json("get", "pv", claim["spec"]["volumeName"])
    assert pv["spec"]["local"]["path"].endswith(f"{namespace}_data_{pv['metadata']['name']}")
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == [NODE_NAME]

    # write from the node straight to the pod (our own pod IP), as a non-root, read-only-root pod
    proof = uuid.uuid4().hex
    put = urllib.request.Request(_file_url(pod), data=proof.encode(), method="PUT")
    with urllib.request.urlopen(put, timeout=10) as resp:
        assert resp.status == 200

    first = pod["metadata"]["name"]
    cluster.run("-n", namespace, "delete", "pod", first, "--wait=true", timeout=90)

    def replaced() -> str | None:
        pods = [p for p in cluster.ready_pods(namespace, "app=keeper") if p["metadata"]["name"] != first]
        return None if pods else "no replacement pod yet"

    cluster.wait_for("the replacement pod", replaced, timeout=90)
    (second,) = cluster.ready_pods(namespace, "app=keeper")
    with urllib.request.urlopen(_file_url(second), timeout=10) as resp:
        assert resp.read().decode() == proof

    # reclaimPolicy Delete: the claim goes, the PV and its directory follow
    path = Path(pv["spec"]["local"]["path"])
    assert path.is_dir()
    cluster.run("-n", namespace, "delete", "deployment", "keeper", "--wait=true", timeout=90)
    cluster.run("-n", namespace, "delete", "pvc", "data", "--wait=true", timeout=60)
    cluster.wait_for(
        f"PV {pv['metadata']['name']} and {path} to be deleted",
        lambda: (
            "PV still there"
            if cluster.run("get", "pv", pv["metadata"]["name"], "-o", "name", check=False)
            else ("directory still there" if path.exists() else None)
        ),
        timeout=60,
    )
