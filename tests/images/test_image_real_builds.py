"""Real builds with buildah: the python base and the app images, checked from the inside.

Slow and root-only: `nox -s images -- test`. They use the real image cache, so a second run
checks the cached images in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from harness.images import builders, rootfs
from harness.images.apps import APPS, BuiltImage, build_app
from harness.images.bases import BaseImage, ensure_base
from harness.images.host import Builder
from harness.images.paths import REPO_ROOT, ImagePaths
from harness.images.recipes import NODE, POSTGRES, PYTHON
from harness.images.rootfs import rootfs_archive

pytestmark = [
    pytest.mark.images,
    pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and buildah need root"),
]
BUILDAH = Builder.BUILDAH
APP_UID = "10001"
# Debian's python3-venv bundles pip/setuptools wheels for ensurepip; they are the base's, not the build's.
ENSUREPIP_WHEELS = "/usr/share/python-wheels"


@pytest.fixture(scope="module")
def python_base() -> BaseImage:
    return ensure_base(PYTHON, BUILDAH)


def apps_with_containerfile() -> list[str]:
    return [name for name in APPS if (REPO_ROOT / "apps" / name / "Containerfile").is_file()]


@pytest.fixture(scope="module", params=apps_with_containerfile() or ["(none yet)"])
def app_image(request: pytest.FixtureRequest) -> BuiltImage:
    if request.param not in APPS:
        pytest.skip("no app has a Containerfile yet")
    return built(request.param)


def sh(reference: str, script: str, user: str | None = None) -> str:
    return builders.run_in_image(BUILDAH, reference, ["/bin/sh", "-c", script], user=user)


def test_python_base_runs_python_with_tls_and_zones(python_base: BaseImage) -> None:
    out = sh(
        python_base.reference,
        "python3 -c 'import ssl, venv, zoneinfo; "
        'print(zoneinfo.ZoneInfo("Europe/Paris"), ssl.OPENSSL_VERSION)\'',
    )
    assert out.startswith("Europe/Paris OpenSSL 3")


def test_node_base_runs_a_node_next_supports() -> None:
    base = ensure_base(NODE, BUILDAH)
    script = (
        "const [a, b] = process.versions.node.split('.').map(Number);"
        " console.log(a > 18 || (a == 18 && b >= 18))"
    )
    assert sh(base.reference, f'node -e "{script}"').strip() == "true"


def test_postgres_base_still_serves_queries_after_the_trim() -> None:
    base = ensure_base(POSTGRES, BUILDAH)
    script = (
        "initdb -D /tmp/pg -U t --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
        " && pg_ctl -D /tmp/pg -o '-c listen_addresses= -k /tmp' -w start >/dev/null"
        " && psql -h /tmp -U t -d postgres -Atc 'select 1 + 1'; pg_ctl -D /tmp/pg -w stop >/dev/null"
    )
    assert sh(base.reference, script, user="postgres").strip() == "2"


def test_python_base_is_trimmed() -> None:
    archive = rootfs_archive(PYTHON, ImagePaths.default())
    with tarfile.open(archive) as tar:
        names = [name.removeprefix("./") for name in tar.getnames()]
    assert not [n for n in names if n.startswith("var/lib/apt/lists/") and n != "var/lib/apt/lists/"]
    assert not [n for n in names if n.startswith("var/cache/apt/") and n.endswith((".deb", ".bin"))]
    docs = [n for n in names if n.startswith("usr/share/doc/") and n.count("/") >= 4]
    assert docs and all(n.endswith("/copyright") for n in docs)  # licences only
    assert not [
        n for n in names if n.startswith(("usr/share/man/", "usr/share/locale/")) and n.count("/") > 3
    ]
    assert "etc/resolv.conf" not in names  # the host's DNS must not ship
    assert "usr/share/doc/python3/copyright" in names  # licences stay
    assert archive.stat().st_size < 160e6


def test_warm_base_builds_nothing(python_base: BaseImage, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_long_steps(*args: object, **kwargs: object) -> float:
        raise AssertionError(f"a warm base ran a build step: {args}")

    monkeypatch.setattr(rootfs, "run_logged", no_long_steps)
    monkeypatch.setattr(builders, "run_logged", no_long_steps)
    started = time.monotonic()
    assert ensure_base(PYTHON, BUILDAH) == python_base
    assert time.monotonic() - started < 5


def test_app_image_runs_as_10001_without_build_tools(app_image: BuiltImage) -> None:
    config = builders.image_config(BUILDAH, app_image.reference)
    assert str(config.get("User", "")).split(":")[0] == APP_UID
    assert sh(app_image.reference, "id -u").strip() == APP_UID
    leftovers = sh(
        app_image.reference,
        "for tool in gcc cc g++ make; do command -v $tool; done; "
        f"find / -xdev \\( -name '*.whl' -o -name wheels -type d \\) -not -path '{ENSUREPIP_WHEELS}/*'; true",
        user="0",
    )
    assert leftovers.split() == []


def test_app_archive_holds_the_contract_name(app_image: BuiltImage) -> None:
    with tarfile.open(app_image.archive) as tar:
        manifest_file = tar.extractfile("manifest.json")
        assert manifest_file is not None
        manifest = json.load(manifest_file)
    assert manifest[0]["RepoTags"] == [app_image.reference]


def run_read_only(
    reference: str, argv: list[str], workdir: Path, writable: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run argv in the image under runc as in the cluster: uid 10001, read-only root, a tmpfs on
    /tmp and on each `writable` path (where the pod mounts an emptyDir or a volume)."""
    config = builders.image_config(BUILDAH, reference)
    name = f"taskflow-ro-check-{os.getpid()}"
    subprocess.run(["buildah", "rm", name], capture_output=True, check=False)
    subprocess.run(
        ["buildah", "from", "--pull-never", "--name", name, reference], capture_output=True, check=True
    )
    try:
        mountpoint = subprocess.run(
            ["buildah", "mount", name], capture_output=True, text=True, check=True
        ).stdout.strip()
        bundle = workdir / "bundle"
        bundle.mkdir()
        subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
        spec = json.loads((bundle / "config.json").read_text())
        spec["root"] = {"path": mountpoint, "readonly": True}
        spec["process"].update(
            terminal=False,
            args=argv,
            env=config.get("Env", []),
            user={"uid": int(APP_UID), "gid": int(APP_UID)},
            cwd=str(config.get("WorkingDir") or "/"),
        )
        for path in ("/tmp", *writable):
            options = (
                ["nosuid", "nodev"]
                if path == "/tmp"
                else ["nosuid", "nodev", "mode=0700", "uid=10001", "gid=10001"]
            )
            spec["mounts"].append(
                {"destination": path, "type": "tmpfs", "source": "tmpfs", "options": options}
            )
        # Relative: the container's cgroups become children of this process's own, as the host rules ask.
        spec["linux"]["cgroupsPath"] = name
        (bundle / "config.json").write_text(json.dumps(spec))
        try:
            return subprocess.run(
                ["runc", "run", "--bundle", str(bundle), name],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            subprocess.run(["runc", "delete", "--force", name], capture_output=True, check=False)
    finally:
        subprocess.run(["buildah", "umount", name], capture_output=True, check=False)
        subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def built(app: str) -> BuiltImage:
    if not (REPO_ROOT / "apps" / app / "Containerfile").is_file():
        pytest.skip(f"apps/{app}/Containerfile not there yet")
    image = build_app(APPS[app], builder=BUILDAH)
    builders.ensure_present(BUILDAH, image.reference, image.archive, ImagePaths.default().logs / "checks.log")
    return image


needs_runc = pytest.mark.skipif(shutil.which("runc") is None, reason="runc not installed")


@needs_runc
@pytest.mark.parametrize(
    ("app", "package"), [("backend", "taskflow_backend"), ("mcp-server", "taskflow_mcp")]
)
def test_python_apps_import_on_a_read_only_root(app: str, package: str, tmp_path: Path) -> None:
    script = (
        f"import {package}, {package}.__main__, tempfile\n"
        "tempfile.NamedTemporaryFile(dir='/tmp').close()\n"
        "try:\n    open('/should-fail', 'w')\n"
        "except OSError as e:\n    print('root is read-only:', e.errno == 30)\n"
    )
    proc = run_read_only(built(app).reference, ["python", "-c", script], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "root is read-only: True"


@needs_runc
def test_postgres_initialises_and_serves_on_a_read_only_root(tmp_path: Path) -> None:
    query = "PGPASSWORD=pw psql -h /var/run/postgresql -U taskflow -d taskflow -Atc 'select 1 + 1'"
    script = (
        "POSTGRES_PASSWORD=pw taskflow-postgres >/tmp/pg.log 2>&1 & "
        "for i in $(seq 120); do "
        f"pg_isready -q -h /var/run/postgresql && {query} && exit 0; sleep 0.5; done; "
        "cat /tmp/pg.log; exit 1"
    )
    proc = run_read_only(
        built("postgres").reference,
        ["/bin/sh", "-c", script],
        tmp_path,
        writable=("/var/lib/postgresql/data", "/var/run/postgresql"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "2"


@needs_runc
def test_frontend_serves_health_on_a_read_only_root(tmp_path: Path) -> None:
    fetch = (
        "fetch('http://127.0.0.1:3000/api/health').then(r => console.log(r.status))"
        ".catch(() => process.exit(1))"
    )
    script = (
        "node server.js >/tmp/server.log 2>&1 & "
        f'for i in $(seq 60); do node -e "{fetch}" && exit 0; sleep 0.5; done; cat /tmp/server.log; exit 1'
    )
    proc = run_read_only(built("frontend").reference, ["/bin/sh", "-c", script], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "200"
