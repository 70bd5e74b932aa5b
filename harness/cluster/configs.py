"""Config files of every core component, written into the state dir (JSON is valid YAML)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

from .files import write_atomic, write_private
from .paths import Layout
from .pki import Pki
from .settings import NETWORK, PAUSE_IMAGE, Network

NODE_NAME = "taskflow-node"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2) + "\n"
    if not path.exists() or path.read_text() != text:
        write_atomic(path, text.encode())
    return path


def apiserver_url(net: Network = NETWORK) -> str:
    return f"https://{net.node_ip}:{net.apiserver_port}"


def kubeconfig(pki: Pki, cert: str, user: str, server: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "taskflow",
                "cluster": {"server": server, "certificate-authority-data": _b64(pki.crt("ca"))},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(pki.crt(cert)),
                    "client-key-data": _b64(pki.key(cert)),
                },
            }
        ],
        "contexts": [{"name": "taskflow", "context": {"cluster": "taskflow", "user": user}}],
        "current-context": "taskflow",
    }


KUBECONFIGS = {
    # file stem -> client cert name
    "admin": "admin",
    "kube-controller-manager": "kube-controller-manager",
    "kube-scheduler": "kube-scheduler",
    "kube-proxy": "kube-proxy",
    "kubelet": "kubelet-client",
}


def kubeconfig_path(layout: Layout, stem: str) -> Path:
    if stem == "admin":
        return layout.admin_kubeconfig
    return layout.config / f"{stem}.kubeconfig"


def write_kubeconfigs(layout: Layout, pki: Pki, net: Network = NETWORK) -> None:
    for stem, cert in KUBECONFIGS.items():
        path = kubeconfig_path(layout, stem)
        text = json.dumps(kubeconfig(pki, cert, stem, apiserver_url(net)), indent=2) + "\n"
        if not path.exists() or path.read_text() != text or stat.S_IMODE(path.stat().st_mode) != 0o600:
            write_private(path, text.encode())


def containerd_config(layout: Layout, net: Network = NETWORK) -> Path:
    cri = "io.containerd.grpc.v1.cri"
    lines = [
        "version = 2",
        f'root = "{layout.containerd_root}"',
        f'state = "{layout.containerd_state}"',
        # Snapshotters these hosts cannot use; skipping them keeps the log free of noise.
        'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",'
        ' "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",'
        ' "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
        "[grpc]",
        f'  address = "{layout.containerd_socket}"',
        "[ttrpc]",
        f'  address = "{layout.containerd_socket}.ttrpc"',
        "[debug]",
        '  level = "info"',
        "[metrics]",
        '  address = ""',
        f'[plugins."{cri}"]',
        f'  sandbox_image = "{PAUSE_IMAGE}"',
        "  netns_mounts_under_state_dir = true",
        # No CAP_SYS_RESOURCE on these hosts: a negative oom_score_adj (pause gets -998) fails
        # in runc init; clamp container scores to containerd's own.
        "  restrict_oom_score_adj = true",
        "  enable_selinux = false",
        "  max_container_log_line_size = 16384",
        f'  [plugins."{cri}".containerd]',
        '    snapshotter = "overlayfs"',
        '    default_runtime_name = "runc"',
        "    discard_unpacked_layers = false",
        f'    [plugins."{cri}".containerd.runtimes.runc]',
        '      runtime_type = "io.containerd.runc.v2"',
        f'      [plugins."{cri}".containerd.runtimes.runc.options]',
        "        SystemdCgroup = false",
        f'        Root = "{layout.run / "runc"}"',
        f'  [plugins."{cri}".cni]',
        '    bin_dir = "/usr/lib/cni"',
        f'    conf_dir = "{layout.cni_conf}"',
        "    max_conf_num = 1",
        f'  [plugins."{cri}".registry]',
        '    config_path = ""',
        '[plugins."io.containerd.internal.v1.opt"]',
        f'  path = "{layout.state / "opt"}"',
    ]
    path = layout.config / "containerd.toml"
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    return path


def cni_config(layout: Layout, net: Network = NETWORK) -> Path:
    conf = {
        "cniVersion": "1.0.0",
        "name": "taskflow",
        "plugins": [
            {
                "type": "bridge",
                "bridge": net.bridge,
                "isGateway": True,
                "ipMasq": False,  # nothing is NATed off the machine
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": net.pod_cidr, "gateway": net.node_ip}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.cni_state / "networks"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return _write_json(layout.cni_conf / "10-taskflow.conflist", conf)


def kubelet_config(layout: Layout, pki: Pki, cgroup_root: str, net: Network = NETWORK) -> Path:
    conf = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": net.node_ip,
        "port": net.kubelet_port,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "readOnlyPort": 0,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.crt("ca"))},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki.crt("kubelet-server")),
        "tlsPrivateKeyFile": str(pki.key("kubelet-server")),
        "cgroupDriver": "cgroupfs",
        "cgroupsPerQOS": True,
        "cgroupRoot": cgroup_root,
        "enforceNodeAllocatable": ["pods"],
        "clusterDNS": [net.cluster_dns],
        "clusterDomain": net.cluster_domain,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "failSwapOn": False,
        "podCIDR": net.pod_cidr,
        "podLogsDir": str(layout.state / "pod-logs"),
        "resolvConf": "/etc/resolv.conf",
        "serializeImagePulls": False,
        "registerNode": True,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "protectKernelDefaults": False,
        # A shared host's disk and memory say nothing about this cluster; keep eviction lenient.
        "evictionHard": {
            "memory.available": "200Mi",
            "nodefs.available": "2%",
            "imagefs.available": "2%",
            "nodefs.inodesFree": "2%",
        },
        "imageGCHighThresholdPercent": 99,
        "imageGCLowThresholdPercent": 98,
        "nodeStatusReportFrequency": "10s",
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "staticPodPath": "",
        "maxPods": 110,
        "logging": {"format": "text"},
    }
    return _write_json(layout.config / "kubelet.json", conf)


def kube_proxy_config(layout: Layout, net: Network = NETWORK) -> Path:
    conf = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig_path(layout, "kube-proxy"))},
        "clusterCIDR": net.pod_cidr,
        "bindAddress": net.node_ip,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "hostnameOverride": NODE_NAME,
        "nodePortAddresses": [f"{net.node_ip}/32"],
        # 0 = leave the host's conntrack sysctls alone.
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",  # (a misspelt key is ignored: kube-proxy set 3600)
        },
        "iptables": {"masqueradeAll": False, "syncPeriod": "10s", "minSyncPeriod": "0s"},
    }
    return _write_json(layout.config / "kube-proxy.json", conf)


def scheduler_config(layout: Layout) -> Path:
    conf = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig_path(layout, "kube-scheduler"))},
        "leaderElection": {"leaderElect": False},
    }
    return _write_json(layout.config / "kube-scheduler.json", conf)


# --- kube-apiserver: who may talk to it, what it keeps encrypted, what it writes down ----------

HEALTH_PATHS = ("/livez", "/readyz", "/healthz")


def authentication_config(layout: Layout) -> Path:
    """Anonymous requests only for the health endpoints (instead of --anonymous-auth=true)."""
    conf = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [],
        "anonymous": {"enabled": True, "conditions": [{"path": p} for p in HEALTH_PATHS]},
    }
    return _write_json(layout.config / "authentication.json", conf)


def encryption_config(layout: Layout) -> Path:
    """Secrets encrypted at rest in etcd (secretbox, a key made once per cluster)."""
    path = layout.pki / "encryption.json"
    if path.exists():
        return path
    key = base64.b64encode(os.urandom(32)).decode()
    conf = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [
            {
                "resources": ["secrets"],
                "providers": [{"secretbox": {"keys": [{"name": "key1", "secret": key}]}}, {"identity": {}}],
            }
        ],
    }
    write_private(path, (json.dumps(conf, indent=2) + "\n").encode())
    return path


def audit_policy(layout: Layout) -> Path:
    """Every write, at Metadata level (who, what, when; never a body, so no Secret leaks into
    the log); reads and the kubelet's lease/status heartbeats are left out."""
    conf = {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            {"level": "None", "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
            {"level": "None", "resources": [{"group": "", "resources": ["events"]}]},
            {"level": "None", "userGroups": ["system:nodes"], "verbs": ["update", "patch"],
             "resources": [{"group": "", "resources": ["nodes/status", "pods/status"]}]},
            {"level": "Metadata", "verbs": ["create", "update", "patch", "delete", "deletecollection"]},
            {"level": "None"},
        ],
    }  # fmt: skip
    return _write_json(layout.config / "audit-policy.json", conf)


def audit_log(layout: Layout) -> Path:
    return layout.logs / "audit.log"
