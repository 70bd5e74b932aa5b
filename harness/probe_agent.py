"""Runs inside the probe pod (stdlib only): resolves names and calls services, prints JSON.

The harness runs `python3 -c <this file> COMMAND JSON-ARGS` in a pod of the namespace under test,
so every latency is what a pod sees, not what a port-forward sees.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


def resolve(names: list[str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for name in names:
        start = time.perf_counter()
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
            answers[name] = {
                "addresses": sorted({info[4][0] for info in infos}),
                "seconds": time.perf_counter() - start,
            }
        except socket.gaierror as error:
            answers[name] = {"error": str(error), "seconds": time.perf_counter() - start}
    return answers


def request(
    url: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    outgoing = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout) as response:
            status, payload, response_headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, payload, response_headers = error.code, error.read(), dict(error.headers)
    except (urllib.error.URLError, OSError) as error:
        return {"status": None, "error": str(error), "seconds": time.perf_counter() - start}
    text = payload.decode("utf-8", errors="replace")
    return {
        "status": status,
        "seconds": time.perf_counter() - start,
        "headers": response_headers,
        "body": text,
    }


def repeat(url: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    results = []
    for _ in range(count):
        outcome = request(url, timeout=timeout)
        outcome.pop("body", None)
        outcome.pop("headers", None)
        results.append(outcome)
    return results


def watch(targets: dict[str, dict[str, Any]], interval: float = 1.0, timeout: float = 2.0) -> None:
    """Request every target once per interval, each on a thread of its own so one slow target
    never delays another; print one JSON line per request until the reader goes away."""
    lock = threading.Lock()

    def one(name: str, spec: dict[str, Any]) -> None:
        outcome = request(spec["url"], headers=spec.get("headers"), timeout=timeout)
        line = json.dumps(
            {
                "target": name,
                "status": outcome["status"],
                "seconds": outcome["seconds"],
                "error": outcome.get("error", ""),
            }
        )
        with lock:
            try:
                print(line, flush=True)
            except (BrokenPipeError, OSError):
                os._exit(0)

    next_at = time.monotonic()
    while True:
        for name, spec in targets.items():
            threading.Thread(target=one, args=(name, spec), daemon=True).start()
        next_at += interval
        time.sleep(max(next_at - time.monotonic(), 0))


COMMANDS: dict[str, Callable[..., Any]] = {
    "resolve": resolve,
    "request": request,
    "repeat": repeat,
    "watch": watch,
}

if __name__ == "__main__":
    command, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(COMMANDS[command](**arguments)))
