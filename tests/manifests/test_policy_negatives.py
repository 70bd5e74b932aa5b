"""Each rule catches its contract: one mutation of a conformant render makes exactly that rule fail."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from harness.policy import ALL_RULES, evaluate
from harness.policy.objects import Manifest, name_of

Mutation = Callable[[list[Manifest]], None]


def find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    return next(obj for obj in objects if obj["kind"] == kind and name_of(obj) == name)


def pod(objects: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, kind, name)["spec"]["template"]["spec"]
    return spec


def container(objects: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    return next(c for c in pod(objects, kind, name)["containers"] if c["name"] == name)


def backend(objects: list[Manifest]) -> dict[str, Any]:
    return container(objects, "Deployment", "backend")


def remove(objects: list[Manifest], kind: str, name: str) -> None:
    objects.remove(find(objects, kind, name))


def set_secret_value(objects: list[Manifest], key: str, value: str) -> None:
    find(objects, "Secret", "taskflow-secrets")["data"][key] = base64.b64encode(value.encode()).decode()


def remove_mount(objects: list[Manifest], kind: str, name: str, path: str) -> None:
    spec = container(objects, kind, name)
    spec["volumeMounts"] = [m for m in spec["volumeMounts"] if m["mountPath"] != path]


def set_pdb_min_available(objects: list[Manifest]) -> None:
    spec = find(objects, "PodDisruptionBudget", "frontend")["spec"]
    del spec["maxUnavailable"]
    spec["minAvailable"] = 2


def let_anyone_reach_mcp(objects: list[Manifest]) -> None:
    find(objects, "NetworkPolicy", "mcp-server")["spec"]["ingress"][0].pop("from")


def drop_dns_tcp(objects: list[Manifest]) -> None:
    rule = find(objects, "NetworkPolicy", "allow-dns-egress")["spec"]["egress"][0]
    rule["ports"] = [p for p in rule["ports"] if p["protocol"] != "TCP"]


# (rule id, what the mutation does, the mutation)
MUTATIONS: list[tuple[str, str, Mutation]] = [
    ("K8S-SCHEMA", "unknown container field", lambda o: backend(o).update(bogus=True)),
    (
        "NS-PSS-RESTRICTED",
        "namespace enforces baseline",
        lambda o: find(o, "Namespace", "taskflow")["metadata"]["labels"].update(
            {"pod-security.kubernetes.io/enforce": "baseline"}
        ),
    ),
    (
        "WL-SEPARATE-WORKLOADS",
        "backend selector also takes frontend pods",
        lambda o: find(o, "Deployment", "backend")["spec"].update(
            selector={
                "matchExpressions": [
                    {"key": "app.kubernetes.io/name", "operator": "In", "values": ["backend", "frontend"]}
                ]
            }
        ),
    ),
    (
        "WL-IMAGE-PINNED",
        "backend image :latest",
        lambda o: backend(o).update(image="localhost/taskflow/backend:latest"),
    ),
    (
        "WL-PULL-IF-NOT-PRESENT",
        "frontend pulls Always",
        lambda o: container(o, "Deployment", "frontend").update(imagePullPolicy="Always"),
    ),
    (
        "WL-SINGLE-NODE-SCHEDULABLE",
        "hard topology spread",
        lambda o: pod(o, "Deployment", "backend")["topologySpreadConstraints"][0].update(
            whenUnsatisfiable="DoNotSchedule"
        ),
    ),
    (
        "SEC-RUN-AS-NON-ROOT",
        "mcp-server as uid 0",
        lambda o: container(o, "Deployment", "mcp-server")["securityContext"].update(runAsUser=0),
    ),
    (
        "SEC-READ-ONLY-ROOT",
        "frontend root writable",
        lambda o: container(o, "Deployment", "frontend")["securityContext"].update(
            readOnlyRootFilesystem=False
        ),
    ),
    (
        "SEC-NO-PRIVILEGE-ESCALATION",
        "postgres may escalate",
        lambda o: container(o, "StatefulSet", "postgres")["securityContext"].update(
            allowPrivilegeEscalation=True
        ),
    ),
    (
        "SEC-DROP-ALL-CAPABILITIES",
        "backend drops only NET_RAW",
        lambda o: backend(o)["securityContext"].update(capabilities={"drop": ["NET_RAW"]}),
    ),
    (
        "SEC-SECCOMP-RUNTIME-DEFAULT",
        "backend Unconfined",
        lambda o: backend(o)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
    ),
    (
        "SEC-NO-HOST-ACCESS",
        "frontend on the host network",
        lambda o: pod(o, "Deployment", "frontend").update(hostNetwork=True),
    ),
    (
        "SEC-TMP-EMPTYDIR",
        "mcp-server without /tmp",
        lambda o: remove_mount(o, "Deployment", "mcp-server", "/tmp"),
    ),
    (
        "SA-DEDICATED",
        "frontend on the default account",
        lambda o: pod(o, "Deployment", "frontend").update(serviceAccountName="default"),
    ),
    (
        "SA-NO-TOKEN",
        "backend mounts its token",
        lambda o: pod(o, "Deployment", "backend").update(automountServiceAccountToken=True),
    ),
    (
        "RES-REQUESTS-LIMITS",
        "postgres without memory limit",
        lambda o: container(o, "StatefulSet", "postgres")["resources"]["limits"].pop("memory"),
    ),
    (
        "RES-REQUESTS-WITHIN-LIMITS",
        "frontend cpu request over limit",
        lambda o: container(o, "Deployment", "frontend")["resources"]["requests"].update(cpu="2"),
    ),
    (
        "PROBE-LIVENESS-READINESS",
        "mcp-server without readiness",
        lambda o: container(o, "Deployment", "mcp-server").pop("readinessProbe"),
    ),
    (
        "PROBE-CONTRACT-ENDPOINTS",
        "backend readiness on /healthz",
        lambda o: backend(o)["readinessProbe"]["httpGet"].update(path="/healthz"),
    ),
    (
        "PROBE-CONTRACT-ENDPOINTS",
        "mcp-server readiness back on /health (no database check)",
        lambda o: container(o, "Deployment", "mcp-server")["readinessProbe"]["httpGet"].update(
            path="/health"
        ),
    ),
    (
        "PROBE-CONTRACT-ENDPOINTS",
        "postgres liveness without pg_isready",
        lambda o: container(o, "StatefulSet", "postgres")["livenessProbe"]["exec"].update(command=["true"]),
    ),
    (
        "PROBE-STARTUP-WHERE-SLOW",
        "postgres without startup probe",
        lambda o: container(o, "StatefulSet", "postgres").pop("startupProbe"),
    ),
    (
        "SVC-CONTRACT-PORTS",
        "backend service on 80",
        lambda o: find(o, "Service", "backend")["spec"]["ports"][0].update(port=80),
    ),
    (
        "SVC-SELECTS-PODS",
        "frontend targetPort unknown",
        lambda o: find(o, "Service", "frontend")["spec"]["ports"][0].update(targetPort="web"),
    ),
    (
        "SVC-POSTGRES-HEADLESS",
        "governing service not headless",
        lambda o: find(o, "Service", "postgres-headless")["spec"].pop("clusterIP"),
    ),
    (
        "CFG-CONFIGMAP-KEYS",
        "MCP URL by IP",
        lambda o: find(o, "ConfigMap", "taskflow-config")["data"].update(
            MCP_SERVER_URL="http://10.96.0.20:8080/mcp"
        ),
    ),
    (
        "CFG-SECRET-KEYS",
        "DATABASE_URL to localhost",
        lambda o: set_secret_value(o, "DATABASE_URL", "postgresql://taskflow:x@localhost:5432/taskflow"),
    ),
    (
        "CFG-APP-ENV",
        "JWT secret as a literal",
        lambda o: backend(o)["env"].__setitem__(
            next(i for i, e in enumerate(backend(o)["env"]) if e["name"] == "JWT_SECRET"),
            {"name": "JWT_SECRET", "value": "hunter2"},
        ),
    ),
    (
        "CFG-REFERENCES-RESOLVE",
        "env from a missing Secret",
        lambda o: container(o, "Deployment", "frontend")["env"].append(
            {"name": "EXTRA", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "EXTRA"}}}
        ),
    ),
    (
        "HPA-BACKEND-CPU",
        "backend scales on memory",
        lambda o: find(o, "HorizontalPodAutoscaler", "backend")["spec"]["metrics"][0]["resource"].update(
            name="memory"
        ),
    ),
    (
        "HPA-OWNS-REPLICAS",
        "backend pins replicas",
        lambda o: find(o, "Deployment", "backend")["spec"].update(replicas=2),
    ),
    (
        "PDB-STATELESS-SERVICES",
        "no budget for mcp-server",
        lambda o: remove(o, "PodDisruptionBudget", "mcp-server"),
    ),
    ("PDB-ALLOWS-DRAIN", "frontend minAvailable = replicas", set_pdb_min_available),
    (
        "STO-POSTGRES-CLAIM",
        "pinned StorageClass",
        lambda o: find(o, "StatefulSet", "postgres")["spec"]["volumeClaimTemplates"][0]["spec"].update(
            storageClassName="fast-ssd"
        ),
    ),
    (
        "ING-ROUTES",
        "/ routed to backend",
        lambda o: find(o, "Ingress", "taskflow")["spec"]["rules"][0]["http"]["paths"][1]["backend"].update(
            service={"name": "backend", "port": {"number": 8000}}
        ),
    ),
    (
        "ING-TLS",
        "another TLS secret",
        lambda o: find(o, "Ingress", "taskflow")["spec"]["tls"][0].update(secretName="other-tls"),
    ),
    (
        "ING-CLASS",
        "no ingress class",
        lambda o: find(o, "Ingress", "taskflow")["spec"].pop("ingressClassName"),
    ),
    ("NET-DEFAULT-DENY", "no default deny", lambda o: remove(o, "NetworkPolicy", "default-deny-all")),
    (
        "NET-DOCUMENTED-PATHS",
        "backend cannot reach mcp-server",
        lambda o: find(o, "NetworkPolicy", "backend")["spec"]["egress"].pop(0),
    ),
    ("NET-DOCUMENTED-PATHS", "anyone may reach mcp-server", let_anyone_reach_mcp),
    ("NET-DNS-EGRESS", "DNS over UDP only", drop_dns_tcp),
    (
        "NET-DNS-EGRESS",
        "DNS to any namespace",
        lambda o: find(o, "NetworkPolicy", "allow-dns-egress")["spec"]["egress"][0].pop("to"),
    ),
]


def test_every_rule_has_a_negative_test() -> None:
    assert {rule_id for rule_id, _, _ in MUTATIONS} == {rule.id for rule in ALL_RULES}


@pytest.mark.parametrize(
    ("rule_id", "mutation"), [(r, m) for r, _, m in MUTATIONS], ids=[f"{r}: {d}" for r, d, _ in MUTATIONS]
)
def test_mutation_fails_exactly_its_rule(objects: list[Manifest], rule_id: str, mutation: Mutation) -> None:
    mutation(objects)
    failed = {result.rule.id: result.violations for result in evaluate(objects) if not result.passed}
    assert set(failed) == {rule_id}, "\n".join(str(v) for vs in failed.values() for v in vs)
    for violation in failed[rule_id]:
        message = str(violation)
        assert "\n" not in message
        assert f"[{rule_id}, FR-0" in message and "(fix: " in message
        assert violation.subject and violation.subject != "manifests", message


def test_messages_name_the_object_and_container(objects: list[Manifest]) -> None:
    backend(objects)["securityContext"]["readOnlyRootFilesystem"] = False
    (violation,) = [v for r in evaluate(objects) for v in r.violations]
    assert str(violation).startswith(
        "Deployment/taskflow/backend container backend: the root filesystem is writable"
    )


def test_unknown_field_message_says_which_and_where(objects: list[Manifest]) -> None:
    backend(objects)["bogus"] = True
    (violation,) = [v for r in evaluate(objects) for v in r.violations]
    assert "unknown field 'bogus' at spec.template.spec.containers[0]" in str(violation)


def test_init_containers_get_the_container_rules(objects: list[Manifest]) -> None:
    pod(objects, "Deployment", "backend")["initContainers"] = [
        {"name": "migrate", "image": "localhost/taskflow/backend:0.1.0", "imagePullPolicy": "IfNotPresent"}
    ]
    failed = {
        v.rule_id for r in evaluate(objects) for v in r.violations if "init container migrate" in v.subject
    }
    # runAsNonRoot/uid/gid and seccomp are inherited from the pod's securityContext, so they hold.
    assert failed == {
        "SEC-READ-ONLY-ROOT",
        "SEC-NO-PRIVILEGE-ESCALATION",
        "SEC-DROP-ALL-CAPABILITIES",
        "SEC-TMP-EMPTYDIR",
        "RES-REQUESTS-LIMITS",
    }
