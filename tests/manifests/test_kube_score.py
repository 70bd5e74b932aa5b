"""kube-score over every overlay: no unwaived CRITICAL, no stale waiver, each rule family able to fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import gotoolchain
from harness.errors import UserError
from harness.policy.__main__ import main as policy_main
from harness.policy.kubescore import CHECK_REQUIREMENTS, known_checks, score
from harness.policy.objects import Manifest, name_of
from harness.policy.peer import PeerVerdict, judge, peer_review
from harness.policy.waivers import WAIVERS_FILE, Waiver, load_waivers
from harness.render import OVERLAYS

Mutation = Callable[[list[Manifest]], None]


@pytest.fixture(scope="session")
def verdicts(rendered_overlays: dict[str, list[Manifest]]) -> dict[str, PeerVerdict]:
    return {overlay: peer_review(objects) for overlay, objects in rendered_overlays.items()}


def find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    return next(obj for obj in objects if obj["kind"] == kind and name_of(obj) == name)


def container(objects: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = find(objects, kind, name)["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == name)


def mcp(objects: list[Manifest]) -> dict[str, Any]:
    return container(objects, "Deployment", "mcp-server")


def same_probe_twice(objects: list[Manifest]) -> None:
    mcp(objects)["readinessProbe"]["httpGet"]["path"] = "/health"


def drop_network_policies(objects: list[Manifest]) -> None:
    objects[:] = [o for o in objects if o["kind"] != "NetworkPolicy"]


def duplicate_env(objects: list[Manifest]) -> None:
    env = mcp(objects)["env"]
    env.append(dict(env[0]))


# (kube-score check, object it must name, what the mutation does, the mutation): one per check
# family that no waiver touches.
MUTATIONS: list[tuple[str, str, str, Mutation]] = [
    ("pod-probes-identical", "Deployment/mcp-server", "readiness back on /health", same_probe_twice),
    ("pod-probes", "Deployment/mcp-server", "no readiness probe", lambda o: mcp(o).pop("readinessProbe")),
    (
        "container-resources",
        "StatefulSet/postgres",
        "no memory limit",
        lambda o: container(o, "StatefulSet", "postgres")["resources"]["limits"].pop("memory"),
    ),
    (
        "container-ephemeral-storage-request-and-limit",
        "Deployment/backend",
        "no ephemeral-storage limit",
        lambda o: container(o, "Deployment", "backend")["resources"]["limits"].pop("ephemeral-storage"),
    ),
    (
        "container-image-tag",
        "Deployment/mcp-server",
        "image :latest",
        lambda o: mcp(o).update(image="x/mcp:latest"),
    ),
    (
        "container-security-context-privileged",
        "Deployment/mcp-server",
        "privileged",
        lambda o: mcp(o)["securityContext"].update(privileged=True),
    ),
    (
        "container-security-context-readonlyrootfilesystem",
        "Deployment/mcp-server",
        "writable root filesystem",
        lambda o: mcp(o)["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    (
        "container-security-context-user-group-id",
        "Deployment/mcp-server",
        "runs as uid 1000",
        lambda o: mcp(o)["securityContext"].update(runAsUser=1000),
    ),
    (
        "deployment-has-poddisruptionbudget",
        "Deployment/mcp-server",
        "no PodDisruptionBudget",
        lambda o: o.remove(find(o, "PodDisruptionBudget", "mcp-server")),
    ),
    ("pod-networkpolicy", "Deployment/mcp-server", "no NetworkPolicy", drop_network_policies),
    (
        "service-targets-pod",
        "Service/mcp-server",
        "selector matches no pod",
        lambda o: find(o, "Service", "mcp-server")["spec"].update(selector={"app.kubernetes.io/name": "mcp"}),
    ),
    (
        "ingress-targets-service",
        "Ingress/taskflow",
        "Ingress names a missing Service",
        lambda o: o.remove(find(o, "Service", "frontend")),
    ),
    (
        "deployment-targeted-by-hpa-does-not-have-replicas-configured",
        "Deployment/backend",
        "replicas set under an HPA",
        lambda o: find(o, "Deployment", "backend")["spec"].update(replicas=3),
    ),
    ("environment-variable-key-duplication", "Deployment/mcp-server", "env var twice", duplicate_env),
    (
        "statefulset-has-servicename",
        "StatefulSet/postgres",
        "serviceName names no Service",
        lambda o: find(o, "StatefulSet", "postgres")["spec"].update(serviceName="postgres-missing"),
    ),
    (
        "deployment-replicas",
        "Deployment/mcp-server",
        "one mcp-server replica",
        lambda o: find(o, "Deployment", "mcp-server")["spec"].update(replicas=1),
    ),
]


def test_every_overlay_passes_the_gate_without_stale_waivers(verdicts: dict[str, PeerVerdict]) -> None:
    assert set(verdicts) == set(OVERLAYS)
    for overlay, verdict in verdicts.items():
        assert verdict.blocking == (), f"{overlay}:\n" + "\n".join(str(f) for f in verdict.blocking)
        assert verdict.stale == (), f"{overlay}:\n" + "\n".join(str(s) for s in verdict.stale)
        unwaived = [str(f) for f in verdict.findings if f.waiver is None]
        assert unwaived == [], f"{overlay}: unwaived warnings:\n" + "\n".join(unwaived)
        assert len(verdict.checks) > 100


def test_the_mapping_names_exactly_kube_scores_checks_each_under_an_fr() -> None:
    assert set(known_checks()) == set(CHECK_REQUIREMENTS)
    assert set(CHECK_REQUIREMENTS.values()) <= {f"FR-{number:03d}" for number in range(1, 11)}


def test_each_waiver_has_a_reason_and_names_real_objects(
    rendered_overlays: dict[str, list[Manifest]],
) -> None:
    waivers = load_waivers()
    present = {f"{o['kind']}/{name_of(o)}" for o in rendered_overlays["kind"]}
    assert waivers, "the waiver file is empty: say so in a test if that is intended"
    for waiver in waivers:
        assert set(waiver.subjects) <= present, waiver
        assert len(waiver.reason) > 80, waiver


def test_without_waivers_the_accepted_findings_fail_the_gate(
    rendered_overlays: dict[str, list[Manifest]],
) -> None:
    verdict = judge(score(rendered_overlays["kind"]), ())
    blocking = {(f.scored.check_id, f.scored.subject) for f in verdict.blocking}
    assert ("container-image-pull-policy", "StatefulSet/postgres") in blocking
    assert ("pod-probes-identical", "Deployment/frontend") in blocking
    assert not verdict.passed


def test_a_waiver_for_a_finding_that_is_gone_is_reported_stale(
    rendered_overlays: dict[str, list[Manifest]],
) -> None:
    fixed = Waiver("pod-probes-identical", ("Deployment/mcp-server",), "was identical before /ready existed")
    verdict = judge(score(rendered_overlays["kind"]), (*load_waivers(), fixed))
    assert [str(stale) for stale in verdict.stale] == [
        "kube-score-waivers.yaml: waiver for pod-probes-identical on Deployment/mcp-server is stale: "
        "kube-score no longer finds it (fix: remove it from the waiver file)"
    ]
    assert verdict.passed


@pytest.mark.parametrize(
    ("check_id", "subject", "mutation"),
    [(c, s, m) for c, s, _, m in MUTATIONS],
    ids=[f"{c}: {d}" for c, _, d, _ in MUTATIONS],
)
def test_mutation_makes_its_finding_appear(
    rendered_overlays: dict[str, list[Manifest]], check_id: str, subject: str, mutation: Mutation
) -> None:
    objects = [dict(o) for o in yaml.safe_load_all(yaml.safe_dump_all(rendered_overlays["kind"]))]
    mutation(objects)
    verdict = peer_review(objects)
    found = [f for f in verdict.findings if (f.scored.check_id, f.scored.subject) == (check_id, subject)]
    assert found, "\n".join(str(f) for f in verdict.findings)
    finding = found[0]
    assert finding.waiver is None and finding.requirement == CHECK_REQUIREMENTS[check_id]
    line = str(finding)
    assert "\n" not in line and line.startswith(f"{subject}: ") and f"kube-score {check_id}, FR-0" in line
    assert "(fix: " in line
    if finding.severity == "CRITICAL":
        assert finding in verdict.blocking and not verdict.passed
    else:
        assert finding.severity == "WARNING", line


def test_the_cli_fails_on_a_blocking_finding(
    tmp_path: Path, rendered_overlays: dict[str, list[Manifest]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert policy_main(["--overlay", "local", "--kube-score"]) == 0
    assert "0 blocking), 0 stale waiver(s)" in capsys.readouterr().out
    objects = [dict(o) for o in yaml.safe_load_all(yaml.safe_dump_all(rendered_overlays["kind"]))]
    same_probe_twice(objects)
    (tmp_path / "all.yaml").write_text(yaml.safe_dump_all(objects))
    assert policy_main(["--dir", str(tmp_path), "--kube-score"]) == 1
    output = capsys.readouterr().out
    assert "Deployment/mcp-server: Container has the same readiness and liveness probe [kube-score " in output
    assert "1 blocking" in output


# Bad input: one line with the fix, and never a silent pass.


def one_line(error: UserError) -> str:
    message = str(error)
    assert "\n" not in message and "(fix: " in message
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("waivers: [\n  - check: x\n", "waiver file does not parse"),
        ("waiver: []\n", "has no `waivers:` list"),
        (
            "waivers:\n  - {check: pod-probe-identical, objects: [Deployment/x], reason: a b c d e f}\n",
            "unknown kube-score check 'pod-probe-identical'",
        ),
        ("waivers:\n  - {check: pod-probes, objects: [], reason: a b c d e f}\n", "must list the objects"),
        (
            "waivers:\n  - {check: pod-probes, objects: [Deployment/x], reason: because}\n",
            "has no real reason",
        ),
        ("waivers:\n  - {check: pod-probes, objects: [Deployment/x]}\n", "give each waiver `check`"),
    ],
    ids=["unparsable", "no list", "unknown check", "no objects", "no reason", "missing field"],
)
def test_bad_waiver_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / WAIVERS_FILE.name
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        load_waivers(path)
    message = one_line(caught.value)
    assert expected in message and str(path) in message


def test_missing_kube_score_without_go_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered_overlays: dict[str, list[Manifest]]
) -> None:
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(gotoolchain, "TOOLCHAIN_SHA256", {})  # no Go to download for this platform
    with pytest.raises(UserError) as caught:
        peer_review(rendered_overlays["kind"])
    message = one_line(caught.value)
    assert "kube-score v1.20.0 is not built yet, there is no Go toolchain on PATH to build it" in message


def fake_program(directory: Path, name: str, script: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text(f"#!/bin/sh\n{script}\n")
    program.chmod(0o755)
    return program


def test_failed_kube_score_build_reports_go_last_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered_overlays: dict[str, list[Manifest]]
) -> None:
    fake_program(
        tmp_path / "bin", "go", "echo noise >&2\necho 'go: module lookup disabled by GOPROXY=off' >&2\nexit 1"
    )
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(UserError) as caught:
        peer_review(rendered_overlays["kind"])
    assert (
        "github.com/zegl/kube-score/cmd/kube-score@v1.20.0` failed: go: module lookup disabled"
        in one_line(caught.value)
    )


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo 'Failed to parse: yaml' >&2\nexit 2", "kube-score failed (exit 2): Failed to parse: yaml"),
        ("echo 'not json'\nexit 0", "kube-score printed no JSON report"),
        (
            "echo '"
            + json.dumps(
                [
                    {
                        "type_meta": {"kind": "Deployment"},
                        "object_meta": {"name": "x"},
                        "checks": [
                            {"check": {"id": "brand-new-check", "name": "New"}, "grade": 1, "skipped": False}
                        ],
                    }
                ]
            )
            + "'\nexit 1",
            "kube-score reports check 'brand-new-check', which has no FR in the mapping",
        ),
    ],
    ids=["crashes", "no json", "unmapped check"],
)
def test_a_broken_kube_score_fails_the_gate_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered_overlays: dict[str, list[Manifest]],
    script: str,
    expected: str,
) -> None:
    fake_program(tmp_path / "cache" / "bin" / "kube-score-v1.20.0", "kube-score", script)
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError) as caught:
        peer_review(rendered_overlays["kind"])
    assert expected in one_line(caught.value)
