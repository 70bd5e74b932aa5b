"""The backend when its MCP server is gone or hung: chat fails fast with 503, nothing else notices.

Each test runs its own MCP server and backend processes, so stopping them disturbs no other test.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from app_processes import AppProcess, SignedUpUser

CHAT_DOWN_BUDGET_SECONDS = 1.5
RETRY_AFTER_SECONDS = 2


def _chat(user: SignedUpUser, message: str = "what's pending?") -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = user.client.post(user.chat_path, json={"message": message})
    return response, time.monotonic() - started


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= RETRY_AFTER_SECONDS
    body = response.json()
    assert "unavailable" in body["detail"]
    assert body["retry_after_seconds"] == int(response.headers["Retry-After"])
    # A fixed phrase, no exception text or URLs (those stay in the backend's log).
    assert body["reason"] in {"timed out", "unreachable", "failed", "circuit open after repeated failures"}


def _assert_task_routes_work(user: SignedUpUser) -> None:
    created = user.client.post(user.tasks_path, json={"title": "written while MCP is down"})
    assert created.status_code == 201
    path = f"{user.tasks_path}/{created.json()['id']}"
    assert user.client.patch(f"{path}/complete").json()["completed"] is True
    assert user.client.put(path, json={"title": "still fine"}).status_code == 200
    assert user.client.delete(path).status_code == 204


def test_mcp_stopped_then_back(
    start_mcp_server: Callable[..., AppProcess],
    start_backend: Callable[..., AppProcess],
    sign_up: Callable[[str], SignedUpUser],
    database_url: str,
) -> None:
    mcp = start_mcp_server(database_url)
    backend = start_backend(
        database_url, mcp.base_url + "/mcp", MCP_RETRY_AFTER_SECONDS=str(RETRY_AFTER_SECONDS)
    )
    user = sign_up(backend.base_url)
    assert _chat(user, "add a task to check the breaker")[0].status_code == 200

    mcp.stop()
    # Enough calls to open the circuit breaker and keep hitting it while open.
    for _ in range(6):
        response, elapsed = _chat(user)
        _assert_unavailable(response)
        assert elapsed < CHAT_DOWN_BUDGET_SECONDS, f"chat took {elapsed:.2f}s with MCP down"
    _assert_task_routes_work(user)
    ready = httpx.get(backend.base_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert "taskflow_mcp_breaker_open 1.0" in httpx.get(backend.base_url + "/metrics").text

    mcp.start()
    deadline = time.monotonic() + RETRY_AFTER_SECONDS + 15
    while (response := _chat(user)[0]).status_code != 200:
        _assert_unavailable(response)
        assert time.monotonic() < deadline, "chat did not recover after the MCP server came back"
        time.sleep(0.5)
    assert "check the breaker" in response.json()["response"]


@pytest.fixture
def hung_mcp_url() -> Iterator[str]:
    """A server that accepts connections and reads requests but never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
    stopping.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_hung_mcp_times_out_without_blocking_other_requests(
    hung_mcp_url: str,
    start_backend: Callable[..., AppProcess],
    sign_up: Callable[[str], SignedUpUser],
    database_url: str,
) -> None:
    total_timeout = 2.0
    backend = start_backend(database_url, hung_mcp_url, MCP_TIMEOUT_SECONDS=str(total_timeout))
    user = sign_up(backend.base_url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        chats = [pool.submit(_chat, user) for _ in range(3)]
        time.sleep(0.3)
        started = time.monotonic()
        _assert_task_routes_work(user)
        assert httpx.get(backend.base_url + "/readyz").status_code == 200
        assert time.monotonic() - started < total_timeout, "task routes waited for the hung MCP calls"
        for chat in chats:
            response, elapsed = chat.result()
            assert response.status_code == 503
            assert "timed out" in response.json()["reason"]
            assert elapsed < total_timeout + 1.5


def test_sigterm_lets_in_flight_requests_finish(
    hung_mcp_url: str,
    start_backend: Callable[..., AppProcess],
    sign_up: Callable[[str], SignedUpUser],
    database_url: str,
) -> None:
    backend = start_backend(database_url, hung_mcp_url, MCP_TIMEOUT_SECONDS="2")
    user = sign_up(backend.base_url)
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(_chat, user)
        time.sleep(0.5)
        assert backend.process is not None
        backend.process.send_signal(signal.SIGTERM)
        response, _ = in_flight.result()
    assert response.status_code == 503
    # uvicorn re-raises SIGTERM once it has shut down cleanly, so the exit is "killed by SIGTERM".
    assert backend.stop() in (0, -signal.SIGTERM)
    assert '"message": "backend stopped"' in backend.log_path.read_text()
