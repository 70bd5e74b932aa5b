"""Imports go one way: scenarios → harness; inside the harness plugin → deploy → live access →
verdict; the verdict talks to no cluster; the embedded cluster knows nothing of deployments or
verdicts; load/ and chaos/ run on their own, without the harness.

Read from the source (AST), so a new back-reach fails here before it tangles the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# below every layer: errors, locks, and the pinned Go toolchain (which needs only those two)
BASE = {"harness", "harness.errors", "harness.locks", "harness.gotoolchain"}
VERDICT = {
    "harness.criteria",
    "harness.evidence",
    "harness.verdict",
    "harness.recorder",
    "harness.report",
    "harness.summary",
    "harness.uptime",
    "harness.loadplot",
    "harness.checks",
}
LIVE = {
    "harness.kube",
    "harness.deployment",
    "harness.live",
    "harness.probe",
    "harness.probe_agent",
    "harness.ingress_client",
    "harness.taskflow_api",
    "harness.browser",
    "harness.browser_isolation",
    "harness.netns_entry",
    "harness.workloads",
    "harness.load_sampler",
    "harness.loadrun",
    "harness.chaosrun",
    "harness.chaos_timeline",
}
CLUSTER_TALK = {"kubernetes", "pytest_kubernetes", "playwright", "httpx"} | LIVE | {"harness.cluster"}
"""What the verdict must not import: anything that reaches a cluster or a service."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str = "") -> set[str]:
    """Every module a file imports, relative imports resolved, `from a import b` as a and a.b.
    `module` names the file when it is not in the repository."""
    package = (module or module_name(path)).split(".")
    if path.name != "__init__.py":
        package.pop()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def harness_modules_of(imports: set[str]) -> set[str]:
    """The harness modules named (a.b.C → the longest prefix that is a known harness module)."""
    known = {module_name(path) for path in (REPO / "harness").rglob("*.py")}
    named = set()
    for name in imports:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in known:
                named.add(".".join(parts[:end]))
                break
    return named


def in_layer(module: str, layer: set[str]) -> bool:
    """A module is in a layer as itself or inside a package of it (the bare `harness` package
    contains everything, so it counts only as itself)."""
    return any(
        module == member or (member != "harness" and module.startswith(member + ".")) for member in layer
    )


def files_under(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("path", files_under("harness"), ids=module_name)
def test_harness_module_imports_only_its_own_layer_or_below(path: Path) -> None:
    module = module_name(path)
    harness_imports = harness_modules_of(imported_modules(path)) - {module}
    external = {name.split(".")[0] for name in imported_modules(path)}
    if module in BASE:
        allowed = BASE
    elif in_layer(module, VERDICT):
        allowed = BASE | VERDICT
        assert not (external & CLUSTER_TALK), f"{module} (verdict) imports {external & CLUSTER_TALK}"
    elif in_layer(module, LIVE):
        allowed = BASE | VERDICT | LIVE
    elif in_layer(module, {"harness.cluster"}):
        allowed = BASE | {"harness.cluster"}
    elif module == "harness.plugin":
        return
    else:  # deploy: providers, rendering, images, prerequisites, policy, sabotage, docker …
        allowed = harness_imports - {"harness.plugin"}
    reaching = sorted(name for name in harness_imports if not in_layer(name, allowed))
    assert not reaching, f"{module} reaches up into {reaching}"


def test_nothing_below_the_plugin_imports_the_plugin_or_the_scenarios() -> None:
    offenders = [
        module_name(path)
        for path in files_under("harness")
        if module_name(path) != "harness.plugin"
        and any(
            name == "harness.plugin" or name.split(".")[0] in {"scenarios", "tests"}
            for name in imported_modules(path)
        )
    ]
    assert not offenders


@pytest.mark.parametrize("folder", ["load", "chaos"])
def test_load_and_chaos_run_without_the_harness(folder: str) -> None:
    offenders = {
        module_name(path): sorted(name for name in imported_modules(path) if name.split(".")[0] == "harness")
        for path in files_under(folder)
    }
    assert not {module: names for module, names in offenders.items() if names}


def test_the_layer_check_sees_a_back_reach(tmp_path: Path) -> None:
    source = tmp_path / "report.py"
    source.write_text("from harness.kube import Kube\nfrom .deploy import Deployment\n")
    named = harness_modules_of(imported_modules(source, "harness.report"))
    assert named == {"harness.kube", "harness.deploy"}
    assert in_layer("harness.kube", CLUSTER_TALK) and not in_layer("harness.deploy", BASE | VERDICT)
