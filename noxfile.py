"""Sessions: tests, lint (the fast loop) and the cluster, conformance, load, chaos and bench jobs."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]

PYTHON = "3.11"
PYTEST_NO_TESTS_COLLECTED = 5
PYTEST_OK = (0, PYTEST_NO_TESTS_COLLECTED)
APP_PACKAGES = sorted(str(path.parent) for path in Path("apps").glob("*/pyproject.toml"))
APP_SOURCES = ["apps/backend/src/taskflow_backend", "apps/mcp-server/src/taskflow_mcp"]
LINTED_PATHS = ["harness", "scenarios", "load", "chaos", "tests", "apps", "noxfile.py"]
FRONTEND = Path("apps/frontend")
CHAOS_PACKAGE = "--editable=chaos"
# On Ctrl-C, how long pytest may take to tear down what it deployed (namespace, prerequisites)
# before nox terminates it (nox's default is 0.3 s, which leaves the deployment behind).
TEARDOWN_SECONDS = 300


def _frontend(session: nox.Session) -> None:
    """Build the frontend for the browser tests (npm ci / next build only when its sources or
    lockfile changed), then ESLint and tsc over it."""
    if shutil.which("npm") is None:
        session.warn("npm not found: the frontend is not built or linted, and the browser tests skip")
        return
    session.run("python", "tests/apps/e2e/frontend_stack.py")
    with session.chdir(FRONTEND):
        session.run("npm", "run", "--silent", "lint", external=True)
        session.run("npm", "run", "--silent", "typecheck", external=True)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The fast suite: unit tests, static manifest checks and app tests; no cluster."""
    session.install("-e", ".[dev,load,chaos]", CHAOS_PACKAGE, *(f"--editable={app}" for app in APP_PACKAGES))
    # the app tests' PostgreSQL, the browser tests' Chromium, the frontend's Node.js, and the
    # iptables and nft the host-safety tests drive in scratch network namespaces
    session.run(
        "python", "-m", "harness.hostpackages", "postgresql", "chromium", "npm", "iptables", "nftables"
    )
    _frontend(session)
    session.run("pytest", "-m", "not cluster and not images", *session.posargs, success_codes=PYTEST_OK)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy over the whole project."""
    session.install("-e", ".[dev,load,chaos]", CHAOS_PACKAGE, *(f"--editable={app}" for app in APP_PACKAGES))
    present = [path for path in LINTED_PATHS if Path(path).exists()]
    session.run("ruff", "check", *present)
    session.run("ruff", "format", "--check", *present)
    typed = [path for path in ("harness", "scenarios", "load", "chaos") if any(Path(path).rglob("*.py"))]
    session.run("mypy", *typed, "noxfile.py", *APP_SOURCES)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The whole verdict: deploy manifests/ to a cluster and prove FR-001..010, SC-001..005.

    Arguments after `--` go to pytest, e.g. `-- --provider kind`, `-- --keep`, `-- -k ingress`.
    """
    session.install("-e", ".[dev,load,chaos]", CHAOS_PACKAGE, *(f"--editable={app}" for app in APP_PACKAGES))
    session.run("python", "-m", "harness.hostpackages", "chromium")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = Path("reports") / f"{stamp}-conformance"
    session.run(
        "pytest",
        "scenarios",
        f"--run-dir={run_dir}",
        f"--junitxml={run_dir}/junit.xml",
        f"--html={run_dir}/pytest.html",
        "--self-contained-html",
        *session.posargs,
        interrupt_timeout=TEARDOWN_SECONDS,
    )


@nox.session(python=PYTHON, name="bare-conformance")
def bare_conformance(session: nox.Session) -> None:
    """The prerequisites step for real: the embedded cluster restarted bare (no ingress, metrics or
    default StorageClass), the whole verdict as `--provider external --install-prerequisites` with
    images built here, then the normal cluster back. Root on Linux; extra pytest args after `--`.
    """
    session.install("-e", ".[dev,load,chaos]", CHAOS_PACKAGE, *(f"--editable={app}" for app in APP_PACKAGES))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = Path("reports") / f"{stamp}-bare-external"
    session.run("python", "-m", "harness.cluster", "up", "--bare")
    printed = session.run("python", "-m", "harness.cluster", "kubeconfig", silent=True)
    kubeconfig = str(printed).splitlines()[0].strip()
    try:
        session.run("python", "-m", "harness.images", "build", "--load", "local")
        session.run("python", "-m", "harness.prerequisites", "images", "--load", "local")
        session.run(
            "pytest",
            "scenarios",
            "--provider=external",
            f"--kubeconfig={kubeconfig}",
            "--overlay=local",
            "--ingress-address=127.0.0.1",
            "--install-prerequisites",
            "--images-present",
            f"--run-dir={run_dir}",
            f"--junitxml={run_dir}/junit.xml",
            f"--html={run_dir}/pytest.html",
            "--self-contained-html",
            *session.posargs,
            interrupt_timeout=TEARDOWN_SECONDS,
        )
    finally:
        # a run killed before its teardown leaves the add-ons it installed on the node's ports
        session.run("python", "-m", "harness.prerequisites", "remove-leftovers", f"--kubeconfig={kubeconfig}")
        session.run("python", "-m", "harness.cluster", "up")


@nox.session(python=PYTHON)
def chaos(session: nox.Session) -> None:
    """The Chaos Toolkit experiments of chaos/ against a fresh deployment: `-- [NAME...] [pytest args]`
    (names are chaos/<NAME>.yaml; anything else goes to pytest, e.g. `--provider kind`, `--keep`).

    Writes reports/<run>/ like conformance (evidence of the experiments' criteria only), with the
    journals and a timeline page per experiment under chaos/ and the index chaos.html.
    """
    session.install("-e", ".[dev,chaos]", CHAOS_PACKAGE, *(f"--editable={app}" for app in APP_PACKAGES))
    known = sorted(path.stem for path in Path("chaos").glob("*.yaml"))
    names = [arg for arg in session.posargs if arg in known]
    options = [arg for arg in session.posargs if arg not in known]
    selected = [f"scenarios/test_chaos.py::test_experiment[{name}]" for name in names] or [
        "scenarios/test_chaos.py"
    ]
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = Path("reports") / f"{stamp}-chaos"
    session.run(
        "pytest",
        *selected,
        f"--run-dir={run_dir}",
        f"--junitxml={run_dir}/junit.xml",
        f"--html={run_dir}/pytest.html",
        "--self-contained-html",
        *options,
        interrupt_timeout=TEARDOWN_SECONDS,
    )


@nox.session(python=PYTHON)
def cluster(session: nox.Session) -> None:
    """The embedded cluster: `-- up|down|status|kubeconfig|load-image PATH`, `-- test` for tests/cluster
    and the sabotage matrix, or `-- sabotage-extended` for the chaos and load sabotages (2-4 min each).

    Runs as root (bridge, iptables, cgroups); see cluster/README.md.
    """
    # tests/sabotage runs scenarios/test_scaling.py (Locust) and scenarios/test_chaos.py (chaostoolkit)
    session.install("-e", ".[dev,load,chaos]", CHAOS_PACKAGE)
    args = session.posargs or ["status"]
    if args[0] == "test":
        session.run(
            "pytest", "-m", "cluster and not sabotage_extended", "tests/cluster", "tests/sabotage", *args[1:]
        )
    elif args[0] == "sabotage-extended":
        session.run("pytest", "-m", "sabotage_extended", "tests/sabotage", *args[1:])
    else:
        session.run("python", "-m", "harness.cluster", *args)


@nox.session(python=PYTHON)
def docker(session: nox.Session) -> None:
    """The project's own Docker engine for real (root): dockerd started and stopped by harness.docker
    (own data root, exec root and socket; its iptables policy and chains recorded and reverted),
    the app tests' PostgreSQL from testcontainers running our postgres image on it. Coexists with
    the embedded cluster; run it under the same live lock. Extra pytest args after `--`.
    """
    session.install("-e", ".[dev]", *(f"--editable={app}" for app in APP_PACKAGES))
    session.run("python", "-m", "harness.hostpackages", "docker")
    session.run("pytest", "-m", "cluster", "tests/docker", *session.posargs)


@nox.session(python=PYTHON)
def images(session: nox.Session) -> None:
    """App images without a registry: `-- build [APP...] [--load local|kind|minikube]`, `-- bases`,
    `-- list`, or `-- test` for the real builds in tests/images (root, several minutes cold).
    """
    session.install("-e", ".[dev]")
    args = session.posargs or ["build"]
    if args[0] == "test":
        session.run("pytest", "-m", "images", "tests/images", *args[1:])
    else:
        session.run("python", "-m", "harness.images", *args)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Backend req/s, latency and CPU per request, load from Locust in its own process; writes
    reports/bench-latest/bench.json."""
    session.install("-e", ".[dev,load]", *(f"--editable={app}" for app in APP_PACKAGES))
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/apps/bench_backend.py", *session.posargs)


LOAD_RUNS = {
    "ramp100": ["scenarios/test_scaling.py", "-k", "under_load or hundred_concurrent"],
    "capacity": ["scenarios/load_capacity.py"],
}


@nox.session(python=PYTHON)
def load(session: nox.Session) -> None:
    """Load on a fresh deployment: `-- ramp100` (SC-004 and FR-005 under 100 users) or `-- capacity`
    (stress users step by step until p95 or failures break the budget). Writes reports/<run>/ like
    conformance; further arguments go to pytest, e.g. `-- ramp100 --provider kind --keep`.
    `-- capacity --workers N` runs Locust distributed: 1 master + N worker pods in the cluster.
    """
    session.install("-e", ".[dev,load]", *(f"--editable={app}" for app in APP_PACKAGES))
    mode, *rest = session.posargs or ["ramp100"]
    if mode not in LOAD_RUNS:
        session.error(f"unknown load run {mode!r}: use one of {', '.join(LOAD_RUNS)}")
    env: dict[str, str] = {}
    if "--workers" in rest:  # Locust's distributed mode: 1 master + N worker pods in the cluster
        at = rest.index("--workers")
        workers = rest[at + 1] if at + 1 < len(rest) else ""
        if mode != "capacity" or not workers.isdigit() or int(workers) < 1:
            session.error(
                "--workers N (N >= 1) goes with the capacity run: `nox -s load -- capacity --workers 2`"
            )
        env["TASKFLOW_LOAD_WORKERS"] = workers
        del rest[at : at + 2]
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = Path("reports") / (f"{stamp}-load-{mode}" + ("-distributed" if env else ""))
    session.run(
        "pytest",
        *LOAD_RUNS[mode],
        f"--run-dir={run_dir}",
        f"--junitxml={run_dir}/junit.xml",
        f"--html={run_dir}/pytest.html",
        "--self-contained-html",
        *rest,
        env=env,
        interrupt_timeout=TEARDOWN_SECONDS,
    )
