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

from harness.criteria import check_criterion
from harness.errors import UserError
from harness.evidence import Evidence, EvidenceLog, Verdict
from harness.providers import PROVIDER_NAMES, Provider, make_provider, missing_tool
from harness.recorder import ChecksFailedError, EvidenceRecorder
from harness.report import write_report
from harness.sabotage import sabotage_named
from harness.summary import build_summary, write_summary
from harness.verdict import criterion_rows, run_outcome

RUN_DIR_KEY = pytest.StashKey[Path]()
CONTEXT_KEY = pytest.StashKey[dict[str, str]]()
STARTED_KEY = pytest.StashKey[str]()
RECORDER_KEY = pytest.StashKey[EvidenceRecorder]()
ENDED_KEY = pytest.StashKey[str]()
"""How a tagged test ended early ("failed" or "skipped"); absent while it goes well."""
EVIDENCE_FILE = "evidence.jsonl"
LATEST_LINK = "latest"


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
        "--overlay",
        help="manifests/overlays/<NAME> to deploy with --provider external (default kind; `local` for"
        " a cluster like the embedded one)",
    )
    group.addoption(
        "--install-prerequisites",
        action="store_true",
        help="with --provider external: install a missing ingress controller, metrics-server or"
        " default StorageClass (pinned manifests in harness/prerequisites) instead of stopping",
    )
    group.addoption(
        "--images-present",
        action="store_true",
        help="with --provider external: the nodes already hold the images built here (Taskflow's and"
        " the prerequisites'); nothing is pulled from a registry",
    )
    group.addoption(
        "--image-registry",
        metavar="REGISTRY",
        help="with --provider external: push the images built here to REGISTRY (skopeo) and deploy"
        " them from there",
    )
    group.addoption(
        "--keep", action="store_true", help="keep the namespace (and cluster) after the run to debug"
    )
    group.addoption("--run-dir", type=Path, help="report folder (default reports/<UTC time>-<provider>)")
    group.addoption("--namespace", help="namespace to deploy into (default taskflow-<run id>)")
    group.addoption(
        "--ramp100-seconds",
        metavar="RAMP,HOLD",
        help="ramp and hold of the SC-004/FR-005 load run in seconds (default 60,120); the load"
        " sabotages use a shorter run that still fails their check",
    )
    group.addoption(
        "--sabotage",
        help="break the deployment on purpose (see harness/sabotage.py) to prove a scenario can fail",
    )


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "criterion(*ids): the FR/SC requirements a scenario proves")
    config.stash[STARTED_KEY] = utc_now()
    named_tool = missing_tool(config.getoption("provider", "auto"))
    if named_tool is not None:  # before any build or deploy: one line saying what to install
        raise pytest.UsageError(str(named_tool))
    if config.getoption("sabotage", None):
        try:
            sabotage_named(config.getoption("sabotage"))
        except UserError as error:
            raise pytest.UsageError(str(error)) from None
    # Claimed before other plugins (pytest-html, junitxml) create it for their own files.
    if config.getoption("run_dir", None) is not None:
        run_directory(config)


def reused_run_dir(path: Path) -> str:
    return (
        f"run directory {path} exists: each run writes a directory of its own "
        "(fix: pass a new --run-dir, or leave it out for reports/<UTC time>-<provider>)"
    )


def run_directory(config: pytest.Config) -> Path:
    if RUN_DIR_KEY not in config.stash:
        chosen: Path | None = config.getoption("run_dir")
        if chosen is None:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            chosen = Path(config.rootpath) / "reports" / f"{stamp}-{config.getoption('provider')}"
        try:
            chosen.mkdir(parents=True)
        except FileExistsError:
            raise pytest.UsageError(reused_run_dir(chosen)) from None
        config.stash[RUN_DIR_KEY] = chosen
        config.stash[CONTEXT_KEY] = {"provider asked for": str(config.getoption("provider"))}
    return config.stash[RUN_DIR_KEY]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tagged = False
    for item in items:
        for criterion in criteria_of(item):
            try:
                check_criterion(criterion)
            except ValueError as error:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.criterion names {error} "
                    "(fix: use an id of harness/criteria.py, or add the row there)"
                ) from None
            item.user_properties.append(("criterion", criterion))
            tagged = True
    if tagged:
        run_directory(config)


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config) -> Path:
    return run_directory(pytestconfig)


@pytest.fixture(scope="session")
def evidence_log(run_dir: Path) -> EvidenceLog:
    return EvidenceLog(run_dir / EVIDENCE_FILE)


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
            overlay=pytestconfig.getoption("overlay"),
            install_prerequisites=pytestconfig.getoption("install_prerequisites"),
            images_present=pytestconfig.getoption("images_present"),
            image_registry=pytestconfig.getoption("image_registry"),
        )
    except UserError as error:
        raise pytest.UsageError(str(error)) from None
    if RUN_DIR_KEY in pytestconfig.stash:
        pytestconfig.stash[CONTEXT_KEY]["provider"] = chosen.name
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
    from harness.deploy import (  # noqa: PLC0415
        api_server_version,
        deploy_taskflow,
        remove_namespace,
        remove_taskflow,
    )
    from harness.kube import WaitTimeoutError  # noqa: PLC0415
    from harness.prepare import prepare_cluster  # noqa: PLC0415

    namespace = pytestconfig.getoption("namespace") or f"taskflow-{secrets.token_hex(3)}"
    keep = bool(pytestconfig.getoption("keep"))
    with progress_shown(pytestconfig):
        try:
            kubeconfig = provider.ensure_up()
        except UserError as error:
            pytest.skip(f"no cluster: {error}")
        context = pytestconfig.stash[CONTEXT_KEY]
        context.update({"namespace": namespace, "kubeconfig": str(kubeconfig)})
        sabotage_name = pytestconfig.getoption("sabotage")
        mutate = None
        if sabotage_name:
            sabotage = sabotage_named(sabotage_name)
            context["sabotage"] = f"{sabotage.name}: {sabotage.description}"
            mutate = sabotage.apply
        try:
            prerequisites = prepare_cluster(provider, kubeconfig, run_dir)
        except UserError as error:
            pytest.fail(f"cluster prerequisites: {error}", pytrace=False)
        context["prerequisites"] = prerequisites.summary()
        try:
            deployment = deploy_taskflow(provider, kubeconfig, namespace, run_dir, mutate)
        except BaseException as error:
            # Whatever stopped the deploy (rollout timeout, Ctrl-C), its namespace must not stay
            # behind holding the ingress host for the next run.
            if keep:
                print(f"\n--keep: namespace {namespace} left as the failed deploy made it")
            else:
                remove_namespace(kubeconfig, namespace)
                prerequisites.uninstall()
            if isinstance(error, UserError | WaitTimeoutError):
                pytest.fail(f"deploying Taskflow failed: {str(error).splitlines()[0]}", pytrace=False)
            raise
        context["kubernetes"] = api_server_version(deployment.kube)
    try:
        yield deployment
    finally:
        if keep:
            print(f"\n--keep: namespace {namespace} left running (kubeconfig {kubeconfig})")
        else:
            remove_taskflow(deployment)
            prerequisites.uninstall()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is not None and recorder.failures:
        raise ChecksFailedError("checks failed:\n" + "\n".join(recorder.failures))
    return result


def criteria_of(item: pytest.Item) -> list[str]:
    return [criterion for marker in item.iter_markers("criterion") for criterion in marker.args]


def first_line(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    if call.excinfo is not None:
        lines = call.excinfo.exconly().strip().splitlines()
        return lines[0] if lines else call.excinfo.typename
    text = report.longreprtext.strip().splitlines()
    return text[-1] if text else "failed"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A tagged test's outcome is evidence too: an error or failure in any phase fails each of its
    criteria (whatever it recorded before), a skip says why, and a test that ended well but
    recorded nothing for one of its criteria fails that criterion."""
    report = yield
    criteria = criteria_of(item)
    if not criteria or RUN_DIR_KEY not in item.config.stash:
        return report
    recorder = item.stash.get(RECORDER_KEY, None)
    log = EvidenceLog(item.config.stash[RUN_DIR_KEY] / EVIDENCE_FILE)
    if report.failed:
        item.stash[ENDED_KEY] = "failed"
        own_check_failures = call.excinfo is not None and isinstance(call.excinfo.value, ChecksFailedError)
        if not own_check_failures:
            outcome = "error" if report.when != "call" else "failed"
            for criterion in criteria:
                log.record(
                    Evidence(
                        criterion,
                        f"test {item.name} ran to the end",
                        "test outcome",
                        outcome,
                        "",
                        "passes",
                        Verdict.FAIL,
                        f"{report.when}: {first_line(report, call)}",
                    )
                )
    elif report.skipped:
        item.stash[ENDED_KEY] = item.stash.get(ENDED_KEY, "skipped")
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else "skipped"
        already = recorder.criteria_recorded() if recorder else set()
        for criterion in criteria:
            if criterion not in already:
                log.record(Evidence(criterion, item.name, "-", None, "", "", Verdict.SKIPPED, reason))
    elif report.when == "teardown" and ENDED_KEY not in item.stash:
        already = recorder.criteria_recorded() if recorder else set()
        for criterion in criteria:
            if criterion not in already:
                log.record(
                    Evidence(
                        criterion,
                        f"test {item.name} records evidence",
                        "records",
                        0,
                        "",
                        ">= 1",
                        Verdict.FAIL,
                        f"recorded no evidence for {criterion} although tagged with it",
                    )
                )
    return report


def files_written_later(config: pytest.Config, run_dir: Path) -> list[str]:
    """junit.xml and pytest.html when they go into the run directory (written after the report)."""
    names = []
    for option in ("xmlpath", "htmlpath"):
        chosen = config.getoption(option, None)
        if chosen and Path(chosen).resolve().parent == run_dir.resolve():
            names.append(Path(chosen).name)
    return names


def kubernetes_version_of(config: pytest.Config) -> str | None:
    return config.stash[CONTEXT_KEY].get("kubernetes") if CONTEXT_KEY in config.stash else None


def point_latest_at(run_dir: Path) -> None:
    """reports/latest -> the newest run (replaced atomically)."""
    link = run_dir.parent / LATEST_LINK
    staged = run_dir.parent / f".{LATEST_LINK}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(run_dir.name, target_is_directory=True)
    staged.replace(link)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After every fixture's teardown (SC-001 records there): report, summary, exit status."""
    config = session.config
    if RUN_DIR_KEY not in config.stash or session.exitstatus == pytest.ExitCode.USAGE_ERROR:
        return  # a refused run measured nothing; no report pretends otherwise
    run_dir = config.stash[RUN_DIR_KEY]
    context = config.stash[CONTEXT_KEY]
    try:
        rows = criterion_rows(EvidenceLog(run_dir / EVIDENCE_FILE))
        summary = build_summary(
            rows,
            run=run_dir.name,
            provider=context.get("provider"),
            kubernetes_version=kubernetes_version_of(config),
            started=config.stash[STARTED_KEY],
            finished=utc_now(),
        )
        write_summary(run_dir, summary)
    except UserError as error:
        print(f"\nerror: {error}")
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    index = write_report(
        run_dir,
        rows,
        title="Taskflow on Kubernetes — conformance",
        context=context,
        expected_files=files_written_later(config, run_dir),
    )
    point_latest_at(run_dir)
    # pytest's own --strict (strict mode) also makes a skipped criterion fail the run.
    outcome = run_outcome(rows, strict=bool(config.getini("strict")))
    print(f"\nreport: {index}")
    for line in outcome.lines():
        print(line)
    if not outcome.ok and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
