"""Render the kustomize overlays in manifests/ into plain objects (a list of dicts).

Kustomize is the standalone binary built once from the Go module proxy into a version-keyed
cache outside the repo, so every machine renders with the same pinned version.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UserError
from harness.gotools import GoTool, ensure_tool, last_line, tool_path
from harness.secrets import SECRET_FILES, RunSecrets, generate_secrets, has_secret_files, write_secret_files

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
# The newest release whose go.mod accepts Go 1.26 (v5.8.3 needs 1.27).
KUSTOMIZE_VERSION = "v5.8.2"
KUSTOMIZE_RUN_TIMEOUT_SECONDS = 120
MANIFESTS_DIR = Path(__file__).resolve().parent.parent / "manifests"
OVERLAYS = ("kind", "local", "minikube")
SECRETS_SUBDIR = Path("base") / "secrets"
RUN_KUSTOMIZATION_DIR = "_run"

MISSING_FILE = re.compile(r"lstat (?P<path>\S+): no such file or directory")

Manifest = dict[str, Any]


def kustomize_path(version: str = KUSTOMIZE_VERSION) -> Path:
    return tool_path(GoTool("kustomize", KUSTOMIZE_MODULE, version))


def ensure_kustomize(version: str = KUSTOMIZE_VERSION) -> Path:
    """The cached kustomize binary, built with `go install` on first use."""
    return ensure_tool(GoTool("kustomize", KUSTOMIZE_MODULE, version))


def overlay_dir(overlay: str, manifests_dir: Path = MANIFESTS_DIR) -> Path:
    path = manifests_dir / "overlays" / overlay
    if not (path / "kustomization.yaml").is_file():
        available = sorted(p.parent.name for p in (manifests_dir / "overlays").glob("*/kustomization.yaml"))
        raise UserError(
            f"overlay {overlay!r} does not exist",
            where=str(path),
            fix=f"use one of: {', '.join(available) or 'none (manifests/overlays/ is empty)'}",
        )
    return path


def render_overlay(
    overlay: str,
    *,
    manifests_dir: Path = MANIFESTS_DIR,
    namespace: str | None = None,
    images: Mapping[str, str] | None = None,
    run_secrets: RunSecrets | None = None,
) -> list[Manifest]:
    """Render `manifests/overlays/<overlay>`.

    Renders a copy of the tree, so the working tree is never written. Secret inputs come from
    `run_secrets`, else from the git-ignored files in base/secrets/, else fresh random ones.
    `namespace` and `images` (original name -> new `name:tag`) are per-run overrides.
    """
    overlay_dir(overlay, manifests_dir)
    with tempfile.TemporaryDirectory(prefix="taskflow-render-") as scratch:
        copy = Path(scratch) / "manifests"
        shutil.copytree(manifests_dir, copy)
        secrets_dir = copy / SECRETS_SUBDIR
        if run_secrets is not None:
            write_secret_files(secrets_dir, run_secrets)
        elif not has_secret_files(secrets_dir):
            write_secret_files(secrets_dir, generate_secrets())
        check_yaml_files(copy, shown_root=manifests_dir)
        target = copy / "overlays" / overlay
        if namespace is not None or images:
            target = _write_run_kustomization(copy, overlay, namespace, images or {})
        return _kustomize_build(target, shown=manifests_dir / "overlays" / overlay, scratch=copy)


def render_directory(path: Path) -> list[Manifest]:
    """A kustomization directory is built; any other directory is read as plain YAML files."""
    if not path.is_dir():
        raise UserError("not a directory", where=str(path), fix="pass a directory of manifests")
    if (path / "kustomization.yaml").is_file():
        check_yaml_files(path, shown_root=path)
        return _kustomize_build(path, shown=path)
    files = sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
    if not files:
        raise UserError("no *.yaml files found", where=str(path), fix="pass a directory of manifests")
    objects: list[Manifest] = []
    for file in files:
        objects.extend(parse_documents(file.read_text(), source=str(file)))
    return objects


def check_yaml_files(root: Path, *, shown_root: Path) -> None:
    """Parse every YAML file first, so a syntax error names the file and line, not kustomize's stack."""
    for file in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
        shown = shown_root / file.relative_to(root)
        parse_documents(file.read_text(), source=str(shown), require_objects=False)


def parse_documents(text: str, *, source: str, require_objects: bool = True) -> list[Manifest]:
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = error.problem or error.context or "invalid YAML"
        raise UserError(
            f"YAML does not parse: {problem}", where=where, fix="correct the YAML syntax at that line"
        ) from None
    except yaml.YAMLError as error:
        raise UserError(
            f"YAML does not parse: {error}", where=source, fix="correct the YAML syntax"
        ) from None
    objects = [document for document in documents if document is not None]
    if require_objects:
        for index, document in enumerate(objects):
            if not isinstance(document, dict) or "kind" not in document or "apiVersion" not in document:
                raise UserError(
                    f"document {index + 1} is not a Kubernetes object (no apiVersion/kind)",
                    where=source,
                    fix="give every document apiVersion, kind and metadata",
                )
    return objects


def _write_run_kustomization(
    copy: Path, overlay: str, namespace: str | None, images: Mapping[str, str]
) -> Path:
    run_dir = copy / RUN_KUSTOMIZATION_DIR
    run_dir.mkdir()
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f"../overlays/{overlay}"],
    }
    if namespace is not None:
        kustomization["namespace"] = namespace
    if images:
        kustomization["images"] = [_image_override(name, reference) for name, reference in images.items()]
    (run_dir / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return run_dir


def _image_override(name: str, reference: str) -> dict[str, str]:
    repository, separator, tag = reference.rpartition(":")
    if not separator or "/" in tag:
        raise UserError(
            f"image override {reference!r} for {name!r} has no tag",
            fix="give the new image as name:tag (never :latest)",
        )
    return {"name": name, "newName": repository, "newTag": tag}


def _kustomize_build(directory: Path, *, shown: Path, scratch: Path | None = None) -> list[Manifest]:
    binary = ensure_kustomize()
    try:
        completed = subprocess.run(
            [str(binary), "build", str(directory)],
            capture_output=True,
            text=True,
            timeout=KUSTOMIZE_RUN_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            f"kustomize build took over {KUSTOMIZE_RUN_TIMEOUT_SECONDS} s", where=str(shown)
        ) from None
    if completed.returncode != 0:
        message = last_line(completed.stderr).removeprefix("Error: ")
        if scratch is not None:
            # Paths inside the scratch copy mean nothing to the user; show them relative.
            message = message.replace(str(scratch) + "/", "")
        missing = MISSING_FILE.search(message)
        if missing:
            secret_input = Path(missing["path"]).name in SECRET_FILES
            raise UserError(
                f"kustomize build failed: {missing['path']} is listed in a kustomization but does not exist",
                where=str(shown),
                fix="write the secret inputs with `python -m harness.secrets` (manifests/README.md)"
                if secret_input
                else "create the file or remove it from the kustomization's resources/patches",
            )
        raise UserError(
            f"kustomize build failed: {message}",
            where=str(shown),
            fix="correct the kustomization or the file it names",
        )
    return parse_documents(completed.stdout, source=f"kustomize build {shown}")
