"""Cluster binary cache: damaged binaries are found and rebuilt; estimates come from this machine."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from harness.cluster import build, build_record
from harness.cluster.addons import builds as addon_builds
from harness.cluster.paths import Layout


def _binaries(out: Path, contents: dict[str, bytes]) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (out / name).write_bytes(data)
    return list(contents)


def test_a_stamped_build_is_intact(tmp_path: Path) -> None:
    names = _binaries(tmp_path, {"a": b"alpha", "b": b"beta"})
    build_record.write_stamp(tmp_path, names)
    assert build_record.damaged_binaries(tmp_path, names) == []


def test_a_truncated_binary_is_damaged(tmp_path: Path) -> None:
    names = _binaries(tmp_path, {"a": b"alpha", "b": b"beta"})
    build_record.write_stamp(tmp_path, names)
    (tmp_path / "b").write_bytes(b"be")
    assert build_record.damaged_binaries(tmp_path, names) == ["b"]


def test_same_size_other_content_is_damaged(tmp_path: Path) -> None:
    names = _binaries(tmp_path, {"a": b"alpha"})
    build_record.write_stamp(tmp_path, names)
    stat = (tmp_path / "a").stat()
    (tmp_path / "a").write_bytes(b"ALPHA")
    os.utime(tmp_path / "a", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert build_record.damaged_binaries(tmp_path, names) == ["a"]


def test_touched_but_unchanged_binary_is_intact(tmp_path: Path) -> None:
    names = _binaries(tmp_path, {"a": b"alpha"})
    build_record.write_stamp(tmp_path, names)
    os.utime(tmp_path / "a", ns=(0, 1_000_000_000))
    assert build_record.damaged_binaries(tmp_path, names) == []


def test_missing_binary_is_damaged(tmp_path: Path) -> None:
    names = _binaries(tmp_path, {"a": b"alpha"})
    build_record.write_stamp(tmp_path, names)
    assert build_record.damaged_binaries(tmp_path, [*names, "absent"]) == ["absent"]


def test_a_build_from_before_stamps_is_adopted_once(tmp_path: Path) -> None:
    names = _binaries(tmp_path, {"a": b"alpha"})
    assert build_record.damaged_binaries(tmp_path, names) == []
    assert (tmp_path / build_record.STAMP_NAME).is_file()
    (tmp_path / "a").write_bytes(b"al")
    assert build_record.damaged_binaries(tmp_path, names) == ["a"]


def test_estimate_prefers_what_this_machine_measured(tmp_path: Path) -> None:
    reference = build_record.estimate(tmp_path, "traefik")
    assert reference.seconds == build_record.REFERENCE_WALL_SECONDS["traefik"]
    assert "reference" in reference.source
    build_record.record_time(tmp_path, "traefik", wall_seconds=321.0, cpu_seconds=600.0)
    measured = build_record.estimate(tmp_path, "traefik")
    assert measured.seconds == 321.0
    assert "measured here" in measured.source
    assert build_record.estimate(tmp_path, "something-new").seconds == build_record.UNKNOWN_COMPONENT_SECONDS


def test_a_corrupt_times_file_falls_back_to_reference(tmp_path: Path) -> None:
    (tmp_path / build_record.TIMES_NAME).write_text("{not json")
    assert "reference" in build_record.estimate(tmp_path, "coredns").source


@pytest.mark.parametrize(("seconds", "shown"), [(5, "5s"), (59.6, "1m00s"), (605, "10m05s")])
def test_durations_read_as_minutes_and_seconds(seconds: float, shown: str) -> None:
    assert build_record.format_duration(seconds) == shown


@pytest.fixture
def hello_build(tmp_path: Path, hello_go_build: build.GoBuild) -> tuple[build.GoBuild, Layout]:
    return hello_go_build, Layout(state=tmp_path / "state", cache=tmp_path / "cache")


def test_a_real_build_is_stamped_timed_and_rebuilt_when_corrupt(
    hello_build: tuple[build.GoBuild, Layout], capsys: pytest.CaptureFixture[str]
) -> None:
    hello, layout = hello_build
    out = build.ensure_built(hello, layout)
    first = capsys.readouterr().err
    assert "reference figure" in first
    assert (out / build_record.STAMP_NAME).is_file()
    assert not layout.state.exists()  # a build alone leaves the state dir free for `up`
    assert "measured here" in build_record.estimate(layout.cache, "hello").source

    (out / "hello").write_bytes(b"\0" * 16)
    build.ensure_built(hello, layout)
    assert "cached binaries damaged (hello); rebuilding" in capsys.readouterr().err
    ran = subprocess.run([str(out / "hello")], capture_output=True, text=True, check=True)
    assert ran.stderr.strip() == "hello"


def test_cold_announcement_names_pending_builds_and_their_total(
    hello_build: tuple[build.GoBuild, Layout], capsys: pytest.CaptureFixture[str]
) -> None:
    hello, layout = hello_build
    build.announce_cold_builds([hello], layout)
    line = capsys.readouterr().err
    assert "1 Go build to do, roughly 2m00s" in line
    assert "reference figures for 2 cores; nothing measured on this machine yet" in line
    assert "hello (not built on this machine yet)" in line
    build.ensure_built(hello, layout)
    capsys.readouterr()
    build.announce_cold_builds([hello], layout)
    assert capsys.readouterr().err == ""


def test_cold_announcement_says_why_each_build_runs_and_where_its_estimate_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")

    def hello(name: str, version: str) -> build.GoBuild:
        return build.GoBuild(name=name, version=version, module_dir=tmp_path, packages={name: "x/" + name})

    old_pins, interrupted, damaged, new = (
        hello("traefik", "v2"),
        hello("etcd", "v3"),
        hello("coredns", "v1"),
        hello("kubernetes", "v1"),
    )
    _binaries(layout.bin_root / "traefik-v1", {"traefik": b"old"})  # same component, other inputs
    _binaries(layout.bin_root / "etcd-v3.partial", {})
    _binaries(damaged.out_dir(layout), {})
    build_record.record_time(layout.cache, "traefik", wall_seconds=90, cpu_seconds=150)
    build.announce_cold_builds([old_pins, interrupted, damaged, new], layout)
    line = capsys.readouterr().err
    assert line.count("\n") == 1
    assert "4 Go builds to do" in line
    assert "1 of 4 measured on this machine, the rest reference figures" in line
    assert "traefik (the cache has traefik-v1, from other inputs)" in line
    assert "etcd (an earlier build was interrupted)" in line
    assert "coredns (cached binaries damaged)" in line
    assert "kubernetes (not built on this machine yet)" in line
    references = build_record.REFERENCE_WALL_SECONDS
    expected = 90 + sum(references[name] for name in ("etcd", "coredns", "kubernetes"))
    assert f"roughly {build_record.format_duration(expected)}" in line
    for name in ("etcd", "coredns", "kubernetes"):
        build_record.record_time(layout.cache, name, wall_seconds=60, cpu_seconds=60)
    build.announce_cold_builds([old_pins, interrupted, damaged, new], layout)
    assert "roughly 4m30s (as measured on this machine)" in capsys.readouterr().err


def test_a_build_line_names_its_binaries_in_the_right_number() -> None:
    assert build._binaries(build.KUBERNETES) == "6 binaries"
    assert build._binaries(build.ETCD) == "1 binary"


def test_build_all_covers_every_cluster_binary_once(
    hello_build: tuple[build.GoBuild, Layout],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = [b.name for b in build.all_builds()]
    assert names[:2] == ["kubernetes", "etcd"]
    assert {"coredns", "metrics-server", "hostpath-provisioner", "traefik", "testimage"} <= set(names)
    assert len(set(names)) == len(names)
    hello, layout = hello_build
    monkeypatch.setattr(build, "all_builds", lambda: (hello,))
    assert build.ensure_all(layout) == {"hello": hello.out_dir(layout)}
    assert "1 Go build to do" in capsys.readouterr().err
    assert build.ensure_all(layout) == {"hello": hello.out_dir(layout)}  # warm: nothing built
    assert capsys.readouterr().err == ""


def test_a_digest_keyed_build_changes_key_with_pins_flags_and_env_only(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.test/hello\n\ngo 1.22\n")
    (tmp_path / "go.sum").write_text("")
    base = build.GoBuild(
        name="hello",
        version="v1",
        module_dir=tmp_path,
        packages={"hello": "example.test/hello"},
        ldflags=["-s"],
        env={"CGO_ENABLED": "0"},
        key_has_inputs_digest=True,
    )
    before = base.cache_key
    assert before == f"hello-v1-{base.inputs_digest}"
    assert dataclasses.replace(base).cache_key == before
    assert dataclasses.replace(base, ldflags=["-s", "-w"]).cache_key != before
    assert dataclasses.replace(base, env={"CGO_ENABLED": "1"}).cache_key != before
    assert dataclasses.replace(base, key_has_inputs_digest=False).cache_key == "hello-v1"
    (tmp_path / "go.sum").write_text("example.test/dep v1.0.0 h1:x=\n")
    assert dataclasses.replace(base).cache_key != before


def _key_on_main(b: build.GoBuild) -> str:
    """main's cache key function before the shared add-on module: <name>-<version>."""
    return f"{b.name}-{b.version}"


# The plain-keyed builds' cache keys on main, with the digest of the inputs (go.mod, go.sum,
# flags, env) they were built from there (main's code, same checkout). A warm cache, CI's
# included, holds exactly these directories: a key that moved would compile that component
# again (Kubernetes alone ~12 min) although nothing in it changed. When a plain-keyed build's
# inputs change, its key must change too (bump its version, or key it by digest) - then
# update this table.
UNCHANGED_KEYS_ON_MAIN = {
    "kubernetes-v1.34.4": "5b442118",
    "etcd-v3.6.5": "89e8356d",
    "coredns-v1.14.7": "90cca742",
    "testimage-0.1.0-c9567e9680": "349012bc",
}
# What the shared add-on module changed (one go.mod for the three), with main's keys for them.
CHANGED_BUILDS_KEYS_ON_MAIN = {
    "metrics-server": "metrics-server-v0.8.0",
    "hostpath-provisioner": "hostpath-provisioner-v13.1.0-761d132b01",
    "traefik": "traefik-v3.6.12",
}


def test_builds_whose_inputs_did_not_change_keep_their_cache_key_from_main(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    unchanged = [b for b in build.all_builds() if b.name not in CHANGED_BUILDS_KEYS_ON_MAIN]
    assert [b.name for b in unchanged] == ["kubernetes", "etcd", "coredns", "testimage"]
    assert all(b.out_dir(layout).name == _key_on_main(b) for b in unchanged)
    assert {b.out_dir(layout).name: b.inputs_digest for b in unchanged} == UNCHANGED_KEYS_ON_MAIN, (
        "a plain-keyed build's inputs changed under the same key: a warm cache would keep its "
        "old binary - change its key, then update UNCHANGED_KEYS_ON_MAIN"
    )


def test_the_shared_module_add_ons_get_new_keys_carrying_their_inputs(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    changed = {b.name: b for b in build.all_builds() if b.name in CHANGED_BUILDS_KEYS_ON_MAIN}
    assert set(changed) == set(CHANGED_BUILDS_KEYS_ON_MAIN)
    for name, b in changed.items():
        key = b.out_dir(layout).name
        # a warm cache's binary from the per-add-on module is never taken for the shared build
        assert key != CHANGED_BUILDS_KEYS_ON_MAIN[name]
        assert key == f"{_key_on_main(b)}-{b.inputs_digest}"


def test_the_add_ons_share_one_module_and_one_set_of_flags() -> None:
    # one module: one version of each shared dependency; one set of flags: one cache entry each
    addons = [
        b
        for b in build.all_builds()
        if b.name in {"coredns", "metrics-server", "hostpath-provisioner", "traefik"}
    ]
    shared = {b.name for b in addons if b.module_dir.name == "addons"}
    assert shared == {"metrics-server", "hostpath-provisioner", "traefik"}  # CoreDNS: see builds.py
    assert all(b.env == addon_builds.GO_ENV for b in addons)
    assert addon_builds.GO_ENV["CGO_ENABLED"] == "0"
    assert "-trimpath" in addon_builds.GO_ENV["GOFLAGS"].split()
    assert all({"-s", "-w"} <= set(b.ldflags) for b in addons)
