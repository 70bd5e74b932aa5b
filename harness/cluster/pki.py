"""A private CA and the certificates of every component, made with `cryptography`."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .files import write_atomic, write_private

VALIDITY = dt.timedelta(days=365)
# `up` re-issues a certificate this close to its expiry (and every leaf of a re-issued CA).
RENEW_BEFORE = dt.timedelta(days=30)


def needs_renewal(cert: x509.Certificate, now: dt.datetime | None = None) -> bool:
    return cert.not_valid_after_utc - (now or dt.datetime.now(dt.UTC)) < RENEW_BEFORE


def _issued_by(cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey) -> bool:
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return False
    return aki.key_identifier == x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()).digest


def _pem_private(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _base_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    lifetime: dt.timedelta,
    *,
    ca: bool,
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate small clock skew
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


@dataclass(frozen=True)
class CertSpec:
    name: str  # file stem: <name>.crt / <name>.key
    common_name: str
    organizations: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    client: bool = False
    server: bool = False
    ca: str = "ca"


@dataclass
class Pki:
    root: Path
    _cas: dict[str, tuple[x509.Certificate, ec.EllipticCurvePrivateKey]] = field(default_factory=dict)

    def crt(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"

    def _load(self, name: str) -> x509.Certificate | None:
        if not (self.crt(name).exists() and self.key(name).exists()):
            return None
        return x509.load_pem_x509_certificate(self.crt(name).read_bytes())

    def ensure_ca(self, name: str, common_name: str) -> None:
        cert_found = self._load(name)
        if cert_found is not None and not needs_renewal(cert_found):
            key_found = serialization.load_pem_private_key(self.key(name).read_bytes(), None)
            assert isinstance(key_found, ec.EllipticCurvePrivateKey)
            self._cas[name] = (cert_found, key_found)
            return
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        cert = (
            _base_builder(subject, subject, key.public_key(), 10 * VALIDITY, ca=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self._write(name, cert, key)
        self._cas[name] = (cert, key)

    def ensure_cert(self, spec: CertSpec) -> None:
        ca_cert, ca_key = self._cas[spec.ca]
        found = self._load(spec.name)
        if found is not None and not needs_renewal(found) and _issued_by(found, ca_key):
            return
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in spec.organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name))
        usages = []
        if spec.client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        if spec.server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            _base_builder(x509.Name(attrs), ca_cert.subject, key.public_key(), VALIDITY, ca=False)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in spec.dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in spec.ip_addresses]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        self._write(spec.name, builder.sign(ca_key, hashes.SHA256()), key)

    def ensure_rsa_keypair(self, name: str) -> None:
        """Service-account signing key: `<name>.key` (private) and `<name>.pub`."""
        if self.key(name).exists() and (self.root / f"{name}.pub").exists():
            return
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write_private(self.key(name), _pem_private(key))
        write_atomic(
            self.root / f"{name}.pub",
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )

    def _write(self, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        write_private(self.key(name), _pem_private(key))
        write_atomic(self.crt(name), cert.public_bytes(serialization.Encoding.PEM))


def cluster_certs(node_name: str, node_ip: str, kubernetes_ip: str, domain: str) -> list[CertSpec]:
    return [
        CertSpec(
            "kube-apiserver",
            "kube-apiserver",
            dns_names=(
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                f"kubernetes.default.svc.{domain}",
                "localhost",
                node_name,
            ),
            ip_addresses=(node_ip, kubernetes_ip, "127.0.0.1"),
            server=True,
        ),
        CertSpec("admin", "taskflow-admin", ("system:masters",), client=True),
        CertSpec("kube-controller-manager", "system:kube-controller-manager", client=True),
        CertSpec("kube-scheduler", "system:kube-scheduler", client=True),
        CertSpec("kube-proxy", "system:kube-proxy", ("system:node-proxier",), client=True),
        CertSpec("kubelet-client", f"system:node:{node_name}", ("system:nodes",), client=True),
        CertSpec(
            "kubelet-server",
            node_name,
            dns_names=(node_name, "localhost"),
            ip_addresses=(node_ip, "127.0.0.1"),
            server=True,
        ),
        CertSpec(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            ("system:masters",),
            client=True,
        ),
        CertSpec("front-proxy-client", "front-proxy-client", client=True, ca="front-proxy-ca"),
        # etcd has a CA of its own: no certificate of the cluster CA (which also signs CSRs)
        # can open etcd; only the apiserver's client certificate can.
        CertSpec(
            "etcd-server",
            "taskflow-etcd",
            dns_names=("localhost",),
            ip_addresses=("127.0.0.1",),
            client=True,
            server=True,
            ca="etcd-ca",
        ),
        CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", client=True, ca="etcd-ca"),
    ]


def ensure_all(root: Path, node_name: str, node_ip: str, kubernetes_ip: str, domain: str) -> Pki:
    pki = Pki(root)
    pki.ensure_ca("ca", "taskflow-cluster-ca")
    pki.ensure_ca("front-proxy-ca", "taskflow-front-proxy-ca")
    pki.ensure_ca("etcd-ca", "taskflow-etcd-ca")
    for spec in cluster_certs(node_name, node_ip, kubernetes_ip, domain):
        pki.ensure_cert(spec)
    pki.ensure_rsa_keypair("service-account")
    return pki
