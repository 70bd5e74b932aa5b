"""Runs inside the probe pod (stdlib only): resolves names and calls services, prints JSON.

The harness runs `python3 -c <this file> COMMAND JSON-ARGS` in a pod of the namespace under test,
so every latency is what a pod sees, not what a port-forward sees.
"""

from __future__ import annotations

import json
import socket
import sys
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


COMMANDS: dict[str, Callable[..., Any]] = {"resolve": resolve, "request": request, "repeat": repeat}

if __name__ == "__main__":
    command, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(COMMANDS[command](**arguments)))
