"""Start and stop dockerd as a child of this process with paths of its own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError

from . import hostnet

CLUSTER_BRIDGE = "tfbr0"  # harness.cluster.settings.Network.bridge (not imported: no cluster code here)
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class EngineLayout:
    data_root: Path
    exec_root: Path
    socket: Path
    pidfile: Path
    log: Path

    @classmethod
    def default(cls) -> EngineLayout:
        cache = Path(os.environ.get("TASKFLOW_CACHE") or Path.home() / ".cache" / "taskflow")
        run = Path("/run/taskflow-docker")
        return cls(
            data_root=cache / "docker",
            exec_root=run / "exec",
            socket=run / "docker.sock",
            pidfile=run / "dockerd.pid",
            log=cache / "docker" / "dockerd.log",
        )

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def argv(self) -> list[str]:
        return [
            "dockerd",
            f"--data-root={self.data_root}",
            f"--exec-root={self.exec_root}",
            f"--host={self.host}",
            f"--pidfile={self.pidfile}",
            "--storage-driver=overlay2",
            "--exec-opt=native.cgroupdriver=cgroupfs",
        ]


def engine_running(host: str) -> bool:
    """True when a Docker engine answers at `host` (docker CLI's -H)."""
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "-H", host, "info"], capture_output=True, check=False, timeout=20)
    return probe.returncode == 0


@dataclass
class DockerEngine:
    """`with DockerEngine() as engine:` runs dockerd for the block; DOCKER_HOST is engine.host."""

    layout: EngineLayout = field(default_factory=EngineLayout.default)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _network: hostnet.HostNetwork | None = field(default=None, init=False)
    problems: list[str] = field(default_factory=list, init=False)

    @property
    def host(self) -> str:
        return self.layout.host

    def __enter__(self) -> DockerEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if os.geteuid() != 0:
            raise UserError(
                "starting a Docker engine needs root", fix="run as root, or start Docker yourself"
            )
        if shutil.which("dockerd") is None:
            raise UserError(
                "dockerd is not installed",
                fix="python -m harness.hostpackages docker (Debian's docker.io)",
            )
        if self.layout.pidfile.exists():
            raise UserError(
                f"a dockerd of this project may still run (pidfile {self.layout.pidfile})",
                fix=f"stop PID {self.layout.pidfile.read_text().strip()} or remove the stale pidfile",
            )
        for directory in (self.layout.data_root, self.layout.exec_root, self.layout.socket.parent):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._network = hostnet.HostNetwork.record()
        log = self.layout.log.open("ab")
        self._process = subprocess.Popen(
            self.layout.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not engine_running(self.host):
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self.layout.log.read_text(errors="replace").splitlines()[-5:]
                self.stop()
                raise UserError(
                    "dockerd did not come up: " + " | ".join(tail),
                    where=str(self.layout.log),
                    fix="see its log",
                )
            time.sleep(0.5)
        if hostnet.link_exists(CLUSTER_BRIDGE):
            hostnet.allow_bridged(CLUSTER_BRIDGE)
        print(f"docker engine up at {self.host} (pid {self._process.pid})", file=sys.stderr)

    def stop(self) -> list[str]:
        """Stop dockerd (by its PID) and revert its host changes; returns what stayed behind."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._network is not None:
            # the embedded cluster turns forwarding on for itself; leave it on while it runs
            self.problems = self._network.revert(keep_ip_forward=hostnet.link_exists(CLUSTER_BRIDGE))
            self._network = None
        shutil.rmtree(self.layout.exec_root, ignore_errors=True)
        self.layout.socket.unlink(missing_ok=True)
        self.layout.pidfile.unlink(missing_ok=True)
        for problem in self.problems:
            print(f"docker engine: left behind: {problem}", file=sys.stderr)
        return self.problems
