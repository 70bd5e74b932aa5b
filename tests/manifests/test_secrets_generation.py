"""Per-run secret inputs: random, well-formed, private, and a certificate for taskflow.local."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.errors import UserError
from harness.secrets import (
    SECRETS_ENV_FILE,
    TLS_CERT_FILE,
    TLS_KEY_FILE,
    generate_secrets,
    main,
    write_secret_files,
)


def test_values_are_random_url_safe_and_consistent() -> None:
    first, second = generate_secrets(), generate_secrets()
    assert first.postgres_password != second.postgres_password and first.jwt_secret != second.jwt_secret
    assert len(first.jwt_secret) >= 64  # 48 bytes of entropy, base64
    assert first.database_url == f"postgresql://taskflow:{first.postgres_password}@postgres:5432/taskflow"
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert set(first.postgres_password) <= allowed and set(first.jwt_secret) <= allowed
    assert first.postgres_password not in repr(first)


def test_certificate_is_for_the_ingress_host_and_matches_its_key() -> None:
    generated = generate_secrets()
    certificate = x509.load_pem_x509_certificate(generated.tls_cert_pem)
    key = serialization.load_pem_private_key(generated.tls_key_pem, password=None)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["taskflow.local"]
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]


def test_files_are_owner_only_and_env_file_has_the_contract_keys(tmp_path: Path) -> None:
    generated = generate_secrets()
    written = write_secret_files(tmp_path / "secrets", generated)
    assert sorted(p.name for p in written) == sorted([SECRETS_ENV_FILE, TLS_CERT_FILE, TLS_KEY_FILE])
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    lines = (tmp_path / "secrets" / SECRETS_ENV_FILE).read_text().splitlines()
    assert lines == [
        f"DATABASE_URL={generated.database_url}",
        f"JWT_SECRET={generated.jwt_secret}",
        f"POSTGRES_PASSWORD={generated.postgres_password}",
        f"MCP_TOKEN_SECRET={generated.mcp_token_secret}",
    ]


def test_cli_keeps_existing_files_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dir", str(tmp_path)]) == 0
    before = (tmp_path / SECRETS_ENV_FILE).read_text()
    assert main(["--dir", str(tmp_path)]) == 0
    assert (tmp_path / SECRETS_ENV_FILE).read_text() == before
    assert "kept them" in capsys.readouterr().out
    assert main(["--dir", str(tmp_path), "--force"]) == 0
    assert (tmp_path / SECRETS_ENV_FILE).read_text() != before


def test_ip_address_host_is_refused() -> None:
    with pytest.raises(UserError, match="is an IP address"):
        generate_secrets("10.0.0.1")
