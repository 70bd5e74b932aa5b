"""Cluster binary cache: damaged binaries are found and rebuilt; estimates come from this machine."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cluster import build, build_record
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
def hello_build(tmp_path: Path) -> tuple[build.GoBuild, Layout]:
    if shutil.which("go") is None and not Path("/usr/local/go/bin/go").is_file():
        pytest.skip("the Go toolchain is not installed")
    module = tmp_path / "src"
    module.mkdir()
    (module / "go.mod").write_text("module example.test/hello\n\ngo 1.22\n")
    (module / "main.go").write_text('package main\n\nfunc main() { println("hello") }\n')
    hello = build.GoBuild(
        name="hello", version="v1", module_dir=module, packages={"hello": "example.test/hello"}
    )
    return hello, Layout(state=tmp_path / "state", cache=tmp_path / "cache")


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
    assert "1 Go builds to do (hello)" in line
    assert "roughly 2m00s" in line
    build.ensure_built(hello, layout)
    capsys.readouterr()
    build.announce_cold_builds([hello], layout)
    assert capsys.readouterr().err == ""


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
    assert "1 Go builds to do (hello)" in capsys.readouterr().err
    assert build.ensure_all(layout) == {"hello": hello.out_dir(layout)}  # warm: nothing built
    assert capsys.readouterr().err == ""


def test_cache_key_changes_with_pins_flags_and_env_but_not_otherwise(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.test/hello\n\ngo 1.22\n")
    (tmp_path / "go.sum").write_text("")
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    base = build.GoBuild(
        name="hello",
        version="v1",
        module_dir=tmp_path,
        packages={"hello": "example.test/hello"},
        ldflags=["-s"],
        env={"CGO_ENABLED": "0"},
    )
    before = base.out_dir(layout).name
    assert before.startswith("hello-v1-")
    assert dataclasses.replace(base).out_dir(layout).name == before
    assert dataclasses.replace(base, ldflags=["-s", "-w"]).out_dir(layout).name != before
    assert dataclasses.replace(base, env={"CGO_ENABLED": "1"}).out_dir(layout).name != before
    (tmp_path / "go.sum").write_text("example.test/dep v1.0.0 h1:x=\n")
    assert dataclasses.replace(base).out_dir(layout).name != before


def test_the_add_ons_share_one_module_and_one_set_of_flags() -> None:
    # one module: one version of each shared dependency; one set of flags: one cache entry each
    addons = [
        b
        for b in build.all_builds()
        if b.name in {"coredns", "metrics-server", "hostpath-provisioner", "traefik"}
    ]
    shared = {b.name for b in addons if b.module_dir.name == "addons"}
    assert shared == {"metrics-server", "hostpath-provisioner", "traefik"}  # CoreDNS: see builds.py
    assert all(b.env == build.STATIC_ENV for b in addons)
    assert build.STATIC_ENV["CGO_ENABLED"] == "0"
    assert "-trimpath" in build.STATIC_ENV["GOFLAGS"].split()
    assert all({"-s", "-w"} <= set(b.ldflags) for b in addons)
