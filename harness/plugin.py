"""pytest plugin of the conformance run: options, the cluster/deployment fixtures, evidence, report.

Loaded by the root conftest.py; its fixtures are only set up by the scenarios that ask for them,
so the fast suite never touches a cluster.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.evidence import Evidence, EvidenceLog, Verdict
from harness.providers import PROVIDER_NAMES, Provider, make_provider
from harness.recorder import EvidenceRecorder
from harness.report import criterion_rows, write_report
from harness.sabotage import sabotage_named

RUN_DIR_KEY = pytest.StashKey[Path]()
CONTEXT_KEY = pytest.StashKey[dict[str, str]]()
RECORDER_KEY = pytest.StashKey[EvidenceRecorder]()
REPORT_LINKS = {
    "pytest report": "pytest.html",
    "junit": "junit.xml",
    "applied manifests": "manifests.yaml",
    "browser screenshot": "sc-003-browser.png",
    "locust": "locust.html",
    "chaos": "chaos.html",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("taskflow", "Taskflow conformance")
    group.addoption(
        "--provider",
        default=os.environ.get("TASKFLOW_PROVIDER", "auto"),
        choices=PROVIDER_NAMES,
        help="where the cluster comes from (default auto: kind with Docker, else the embedded local cluster)",
    )
    group.addoption(
        "--kubeconfig", type=Path, help="kubeconfig of an existing cluster (with --provider external)"
    )
    group.addoption(
        "--ingress-address", default="127.0.0.1", help="where the ingress's HTTPS port is reachable"
    )
    group.addoption(
        "--keep", action="store_true", help="keep the namespace (and cluster) after the run to debug"
    )
    group.addoption("--run-dir", type=Path, help="report folder (default reports/<UTC time>-<provider>)")
    group.addoption("--namespace", help="namespace to deploy into (default taskflow-<run id>)")
    group.addoption(
        "--sabotage",
        help="break the deployment on purpose (see harness/sabotage.py) to prove a scenario can fail",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "criterion(*ids): the FR/SC requirements a scenario proves")
    if config.getoption("sabotage", None):
        try:
            sabotage_named(config.getoption("sabotage"))
        except UserError as error:
            raise pytest.UsageError(str(error)) from None


def run_directory(config: pytest.Config) -> Path:
    if RUN_DIR_KEY not in config.stash:
        chosen: Path | None = config.getoption("run_dir")
        if chosen is None:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            chosen = Path(config.rootpath) / "reports" / f"{stamp}-{config.getoption('provider')}"
        chosen.mkdir(parents=True, exist_ok=True)
        config.stash[RUN_DIR_KEY] = chosen
        config.stash[CONTEXT_KEY] = {"provider": str(config.getoption("provider"))}
    return config.stash[RUN_DIR_KEY]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(criteria_of(item) for item in items):
        run_directory(config)


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config) -> Path:
    return run_directory(pytestconfig)


@pytest.fixture(scope="session")
def evidence_log(run_dir: Path) -> EvidenceLog:
    return EvidenceLog(run_dir / "evidence.jsonl")


@pytest.fixture
def evidence(request: pytest.FixtureRequest, evidence_log: EvidenceLog) -> EvidenceRecorder:
    recorder = EvidenceRecorder(evidence_log, request.node.nodeid)
    request.node.stash[RECORDER_KEY] = recorder
    return recorder


@pytest.fixture(scope="session")
def provider(pytestconfig: pytest.Config) -> Generator[Provider, None, None]:
    """The cluster provider; a cluster it created is removed at the end unless --keep."""
    try:
        chosen = make_provider(
            pytestconfig.getoption("provider"),
            kubeconfig=pytestconfig.getoption("kubeconfig"),
            ingress_address=pytestconfig.getoption("ingress_address"),
        )
    except UserError as error:
        raise pytest.UsageError(str(error)) from None
    yield chosen
    if not pytestconfig.getoption("keep"):
        chosen.teardown()


@contextmanager
def progress_shown(config: pytest.Config) -> Iterator[None]:
    """Let long set-up steps (cluster start, image builds, rollout) print progress as they go."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


@pytest.fixture(scope="session")
def taskflow(pytestconfig: pytest.Config, provider: Provider, run_dir: Path) -> Generator[object, None, None]:
    """Taskflow deployed from manifests/ into its own namespace; removed afterwards unless --keep."""
    from harness.deploy import deploy_taskflow, remove_taskflow  # noqa: PLC0415

    namespace = pytestconfig.getoption("namespace") or f"taskflow-{secrets.token_hex(3)}"
    with progress_shown(pytestconfig):
        try:
            kubeconfig = provider.ensure_up()
        except UserError as error:
            pytest.skip(f"no cluster: {error}")
        pytestconfig.stash[CONTEXT_KEY].update({"namespace": namespace, "kubeconfig": str(kubeconfig)})
        sabotage_name = pytestconfig.getoption("sabotage")
        mutate = None
        if sabotage_name:
            sabotage = sabotage_named(sabotage_name)
            pytestconfig.stash[CONTEXT_KEY]["sabotage"] = f"{sabotage.name}: {sabotage.description}"
            mutate = sabotage.apply
        try:
            deployment = deploy_taskflow(provider, kubeconfig, namespace, run_dir, mutate)
        except UserError as error:
            pytest.fail(f"deploying Taskflow failed: {error}", pytrace=False)
    try:
        yield deployment
    finally:
        if pytestconfig.getoption("keep"):
            print(f"\n--keep: namespace {namespace} left running (kubeconfig {kubeconfig})")
        else:
            remove_taskflow(deployment)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is not None and recorder.failures:
        raise AssertionError("checks failed:\n" + "\n".join(recorder.failures))
    return result


def criteria_of(item: pytest.Item) -> list[str]:
    return [criterion for marker in item.iter_markers("criterion") for criterion in marker.args]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A scenario that failed or skipped without saying so in evidence still shows in the report."""
    report = yield
    criteria = criteria_of(item)
    if not criteria or RUN_DIR_KEY not in item.config.stash:
        return report
    recorder = item.stash.get(RECORDER_KEY, None)
    already = recorder.criteria_recorded() if recorder else set()
    ended_badly = report.failed or report.skipped
    last_phase = report.when == "call" or ended_badly
    if not last_phase or (report.passed and report.when != "call"):
        return report
    log = EvidenceLog(item.config.stash[RUN_DIR_KEY] / "evidence.jsonl")
    for criterion in criteria:
        if criterion in already:
            continue
        if report.skipped:
            reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else "skipped"
            log.record(Evidence(criterion, item.name, "-", None, "", "", Verdict.SKIPPED, reason))
        elif report.failed:
            message = call.excinfo.exconly().splitlines()[0] if call.excinfo else report.longreprtext[-300:]
            log.record(
                Evidence(criterion, item.name, "-", None, "", "", Verdict.FAIL, f"{report.when}: {message}")
            )
        else:
            log.record(Evidence(criterion, item.name, "test passed", "ok", "", "", Verdict.PASS))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if RUN_DIR_KEY not in config.stash:
        return
    index = write_report(
        config.stash[RUN_DIR_KEY],
        title="Taskflow on Kubernetes — conformance",
        context=config.stash[CONTEXT_KEY],
        links=REPORT_LINKS,
    )
    print(f"\nreport: {index}")
    rows = criterion_rows(EvidenceLog(config.stash[RUN_DIR_KEY] / "evidence.jsonl"))
    if all(row.verdict is Verdict.SKIPPED for row in rows) and session.testscollected:
        # Nothing verified is not a green run: say so, and fail it.
        print("no requirement could be checked on this run (every criterion skipped); see the report")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
