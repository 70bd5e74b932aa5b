"""Per-run secret inputs for the manifests: the `taskflow-secrets` env file and the `taskflow-tls` pair.

The kustomize base reads these git-ignored files (manifests/base/secrets/) through its
secretGenerator, so no secret value is ever committed.

    python -m harness.secrets [--dir DIR] [--force]
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.errors import UserError, exits_cleanly_on_user_error

INGRESS_HOST = "taskflow.local"
DATABASE_USER = "taskflow"
DATABASE_NAME = "taskflow"
DATABASE_SERVICE = "postgres:5432"
SECRETS_ENV_FILE = "taskflow-secrets.env"
TLS_CERT_FILE = "tls.crt"
TLS_KEY_FILE = "tls.key"
SECRET_FILES = (SECRETS_ENV_FILE, TLS_CERT_FILE, TLS_KEY_FILE)
DEFAULT_SECRETS_DIR = Path(__file__).resolve().parent.parent / "manifests" / "base" / "secrets"
JWT_SECRET_BYTES = 48
SECRET_ENV_KEYS = ("DATABASE_URL", "JWT_SECRET", "POSTGRES_PASSWORD", "MCP_TOKEN_SECRET")
PASSWORD_BYTES = 24
CERT_VALIDITY = datetime.timedelta(days=30)


@dataclass(frozen=True)
class RunSecrets:
    """The values one run deploys with; `str()` never shows them."""

    postgres_password: str
    jwt_secret: str
    mcp_token_secret: str
    tls_cert_pem: bytes
    tls_key_pem: bytes

    @property
    def database_url(self) -> str:
        return f"postgresql://{DATABASE_USER}:{self.postgres_password}@{DATABASE_SERVICE}/{DATABASE_NAME}"

    def env_values(self) -> dict[str, str]:
        """The keys of Secret `taskflow-secrets` (docs/contracts.md)."""
        return {
            "DATABASE_URL": self.database_url,
            "JWT_SECRET": self.jwt_secret,
            "POSTGRES_PASSWORD": self.postgres_password,
            # Signs the backend's per-call tokens to the MCP server; both pods read it.
            "MCP_TOKEN_SECRET": self.mcp_token_secret,
        }

    def __repr__(self) -> str:
        return "RunSecrets(<redacted>)"


def self_signed_certificate(host: str = INGRESS_HOST) -> tuple[bytes, bytes]:
    """A self-signed server certificate for `host` and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Backdated a little so a node whose clock lags the host's still accepts it.
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


def generate_secrets(host: str = INGRESS_HOST) -> RunSecrets:
    """Fresh random values for one run."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise UserError(f"TLS host {host!r} is an IP address", fix="pass a DNS name such as taskflow.local")
    cert_pem, key_pem = self_signed_certificate(host)
    return RunSecrets(
        # url-safe so it can sit inside DATABASE_URL unescaped
        postgres_password=secrets.token_urlsafe(PASSWORD_BYTES),
        jwt_secret=secrets.token_urlsafe(JWT_SECRET_BYTES),
        mcp_token_secret=secrets.token_urlsafe(JWT_SECRET_BYTES),
        tls_cert_pem=cert_pem,
        tls_key_pem=key_pem,
    )


def write_secret_files(directory: Path, run_secrets: RunSecrets) -> list[Path]:
    """Write the files the kustomize secretGenerator reads; readable by the owner only."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot create the secrets directory ({error.strerror})",
            where=str(directory),
            fix="pass --dir with a writable directory",
        ) from None
    env_text = "".join(f"{key}={value}\n" for key, value in run_secrets.env_values().items())
    contents = {
        SECRETS_ENV_FILE: env_text.encode(),
        TLS_CERT_FILE: run_secrets.tls_cert_pem,
        TLS_KEY_FILE: run_secrets.tls_key_pem,
    }
    written = []
    for name, content in contents.items():
        path = directory / name
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_bytes(content)
        written.append(path)
    return written


def has_secret_files(directory: Path) -> bool:
    """Every file is there and the env file holds every key (files from an older version that lack
    one count as absent, so they are written afresh)."""
    if not all((directory / name).is_file() for name in SECRET_FILES):
        return False
    keys = {line.partition("=")[0] for line in (directory / SECRETS_ENV_FILE).read_text().splitlines()}
    return keys >= set(SECRET_ENV_KEYS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.secrets",
        description="Write fresh secret inputs (env file, TLS cert and key) for the manifests.",
    )
    parser.add_argument("--dir", type=Path, default=DEFAULT_SECRETS_DIR, help="where to write them")
    parser.add_argument("--host", default=INGRESS_HOST, help="the Ingress host the certificate is for")
    parser.add_argument("--force", action="store_true", help="replace files that already exist")
    arguments = parser.parse_args(argv)
    return write_command(arguments.dir, arguments.host, force=arguments.force)


@exits_cleanly_on_user_error
def write_command(directory: Path, host: str, *, force: bool) -> int:
    if has_secret_files(directory) and not force:
        print(f"{directory}: secret inputs already exist; kept them (--force replaces them)")
        return 0
    for path in write_secret_files(directory, generate_secrets(host)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
