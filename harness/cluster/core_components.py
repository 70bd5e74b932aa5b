"""The core host processes: argv, environment and readiness check of each."""

from __future__ import annotations

from pathlib import Path

from .component import Component
from .configs import NODE_NAME, apiserver_url, kubeconfig_path
from .paths import Layout
from .pki import Pki
from .probes import command_ok, http_ok
from .settings import Network


def containerd(layout: Layout, config: Path) -> Component:
    return Component(
        name="containerd",
        argv=["/usr/bin/containerd", "--config", str(config)],
        ready=command_ok(["ctr", "--address", str(layout.containerd_socket), "version"]),
        ready_timeout=30,
        fix_hint="see the containerd log; another containerd on the same socket/root, or a "
        "missing overlayfs, are the usual causes",
    )


def etcd(layout: Layout, binary: Path, pki: Pki, net: Network) -> Component:
    """TLS on both ports, and only certificates of etcd's own CA get in (the apiserver's)."""
    client = f"https://127.0.0.1:{net.etcd_client_port}"
    peer = f"https://127.0.0.1:{net.etcd_peer_port}"
    ca, crt, key = pki.crt("etcd-ca"), pki.crt("etcd-server"), pki.key("etcd-server")
    return Component(
        name="etcd",
        argv=[
            str(binary),
            "--name=taskflow",
            f"--data-dir={layout.etcd_data}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=taskflow={peer}",
            "--initial-cluster-state=new",
            f"--cert-file={crt}",
            f"--key-file={key}",
            f"--trusted-ca-file={ca}",
            "--client-cert-auth=true",
            f"--peer-cert-file={crt}",
            f"--peer-key-file={key}",
            f"--peer-trusted-ca-file={ca}",
            "--peer-client-cert-auth=true",
            "--log-level=warn",
        ],
        ready=http_ok(
            f"{client}/health",
            ca=ca,
            cert=(pki.crt("apiserver-etcd-client"), pki.key("apiserver-etcd-client")),
            expect='"health":"true"',
        ),
        ready_timeout=30,
        fix_hint=f"ports {net.etcd_client_port}/{net.etcd_peer_port} must be free; a corrupt data dir "
        f"({layout.etcd_data}) is fixed by `down` then `up`",
    )


def kube_apiserver(layout: Layout, binary: Path, pki: Pki, net: Network) -> Component:
    crt, key = pki.crt, pki.key
    return Component(
        name="kube-apiserver",
        argv=[
            str(binary),
            f"--advertise-address={net.node_ip}",
            f"--bind-address={net.node_ip}",
            f"--secure-port={net.apiserver_port}",
            "--allow-privileged=true",
            "--authorization-mode=Node,RBAC",
            f"--client-ca-file={crt('ca')}",
            "--enable-admission-plugins=NodeRestriction",
            f"--etcd-servers=https://127.0.0.1:{net.etcd_client_port}",
            f"--etcd-cafile={crt('etcd-ca')}",
            f"--etcd-certfile={crt('apiserver-etcd-client')}",
            f"--etcd-keyfile={key('apiserver-etcd-client')}",
            # no anonymous requests but to /livez, /readyz, /healthz (authentication.json)
            f"--authentication-config={layout.config / 'authentication.json'}",
            f"--encryption-provider-config={layout.pki / 'encryption.json'}",
            f"--audit-policy-file={layout.config / 'audit-policy.json'}",
            f"--audit-log-path={layout.logs / 'audit.log'}",
            "--audit-log-maxsize=20",
            "--audit-log-maxbackup=2",
            f"--kubelet-certificate-authority={crt('ca')}",
            f"--kubelet-client-certificate={crt('apiserver-kubelet-client')}",
            f"--kubelet-client-key={key('apiserver-kubelet-client')}",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            f"--service-account-issuer=https://kubernetes.default.svc.{net.cluster_domain}",
            f"--service-account-key-file={pki.root / 'service-account.pub'}",
            f"--service-account-signing-key-file={key('service-account')}",
            f"--service-cluster-ip-range={net.service_cidr}",
            f"--tls-cert-file={crt('kube-apiserver')}",
            f"--tls-private-key-file={key('kube-apiserver')}",
            # aggregation layer (metrics-server)
            f"--requestheader-client-ca-file={crt('front-proxy-ca')}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-username-headers=X-Remote-User",
            f"--proxy-client-cert-file={crt('front-proxy-client')}",
            f"--proxy-client-key-file={key('front-proxy-client')}",
            "--enable-aggregator-routing=true",
            "--profiling=false",
            "--v=1",
        ],
        ready=http_ok(
            f"{apiserver_url(net)}/readyz",
            ca=crt("ca"),
            cert=(crt("admin"), key("admin")),
        ),
        ready_timeout=90,
        fix_hint=f"port {net.apiserver_port} on {net.node_ip} must be free and etcd must answer",
    )


def kube_controller_manager(layout: Layout, binary: Path, pki: Pki, net: Network) -> Component:
    kc = kubeconfig_path(layout, "kube-controller-manager")
    return Component(
        name="kube-controller-manager",
        argv=[
            str(binary),
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1",
            "--cluster-name=taskflow",
            f"--cluster-signing-cert-file={pki.crt('ca')}",
            f"--cluster-signing-key-file={pki.key('ca')}",
            f"--root-ca-file={pki.crt('ca')}",
            f"--requestheader-client-ca-file={pki.crt('front-proxy-ca')}",
            f"--service-account-private-key-file={pki.key('service-account')}",
            f"--service-cluster-ip-range={net.service_cidr}",
            f"--cluster-cidr={net.pod_cidr}",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            "--profiling=false",
            "--v=1",
        ],
        ready=http_ok("https://127.0.0.1:10257/healthz", insecure=True),
        ready_timeout=60,
        fix_hint="port 10257 must be free; see the log",
    )


def kube_scheduler(layout: Layout, binary: Path, config: Path) -> Component:
    kc = kubeconfig_path(layout, "kube-scheduler")
    return Component(
        name="kube-scheduler",
        argv=[
            str(binary),
            f"--config={config}",
            f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1",
            "--v=1",
        ],
        ready=http_ok("https://127.0.0.1:10259/healthz", insecure=True),
        ready_timeout=60,
        fix_hint="port 10259 must be free; see the log",
    )


def kubelet(layout: Layout, binary: Path, config: Path, net: Network) -> Component:
    return Component(
        name="kubelet",
        argv=[
            str(binary),
            f"--config={config}",
            f"--kubeconfig={kubeconfig_path(layout, 'kubelet')}",
            f"--root-dir={layout.kubelet_root}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={net.node_ip}",
            "--v=1",
        ],
        ready=http_ok("http://127.0.0.1:10248/healthz"),
        ready_timeout=90,
        fix_hint="port 10250/10248 must be free; cgroup or containerd errors are in the log",
    )


def kube_proxy(layout: Layout, binary: Path, config: Path) -> Component:
    return Component(
        name="kube-proxy",
        argv=[str(binary), f"--config={config}", "--v=1"],
        ready=http_ok("http://127.0.0.1:10256/livez"),
        ready_timeout=60,
        fix_hint="ports 10249/10256 must be free; iptables errors are in the log",
    )
