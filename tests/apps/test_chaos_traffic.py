"""The chaos package's traffic, ledger and task-endpoint checks against the real backend (over
plain HTTP on loopback instead of the ingress): they measure, and they catch a lost write."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_processes import AppProcess
from taskflow_chaos.api import Api
from taskflow_chaos.service import chat_unavailable_checks, task_endpoints_work
from taskflow_chaos.target import target_of
from taskflow_chaos.traffic import start_traffic, stop_traffic, traffic_named, verify_ledger
from taskflow_chaos.users import api_and_user


@pytest.fixture(scope="module")
def chaos_backend(
    start_backend: Callable[..., AppProcess], database_url: str, mcp_server: AppProcess
) -> AppProcess:
    """A backend of its own: these tests sign users up, which the shared one rate-limits per client."""
    return start_backend(database_url, mcp_server.base_url + "/mcp")


def direct(backend: AppProcess, output_dir: Path) -> dict[str, Any]:
    return {
        "ingress_address": "127.0.0.1",
        "ingress_port": backend.port,
        "ingress_scheme": "http",
        "output_dir": str(output_dir),
    }


def test_writers_ledger_and_checks_hold_on_a_healthy_backend(
    chaos_backend: AppProcess, tmp_path: Path
) -> None:
    configuration = direct(chaos_backend, tmp_path)
    start_traffic("healthy", writers=2, readers=1, configuration=configuration)
    time.sleep(3)
    stopped = stop_traffic(
        "healthy", "SC-005", max_failed=0, max_gap_seconds=2, max_p95_ms=2000, configuration=configuration
    )
    assert stopped["requests"] > 10 and stopped["failed"] == 0, stopped
    assert all(check["ok"] for check in stopped["checks"]), stopped["checks"]
    assert len((tmp_path / "healthy.jsonl").read_text().splitlines()) == stopped["requests"]
    verified = verify_ledger("healthy", configuration=configuration)
    assert verified["checks"][0]["ok"], verified
    assert verified["lost"] == 0 and verified["acknowledged_tasks"] > 0


def test_a_write_lost_after_its_acknowledgement_is_caught(chaos_backend: AppProcess, tmp_path: Path) -> None:
    configuration = direct(chaos_backend, tmp_path)
    start_traffic("lossy", writers=1, readers=0, configuration=configuration)
    time.sleep(1.5)
    stop_traffic("lossy", configuration=configuration)
    traffic = traffic_named("lossy")
    assert traffic is not None
    victim = next(iter(traffic.ledger.acknowledged))
    deleted = traffic.api.request(
        "DELETE", f"/api/{traffic.user.user_id}/tasks/{victim}", token=traffic.user.token
    )
    assert deleted.status == 204, deleted
    verified = verify_ledger("lossy", configuration=configuration)
    assert not verified["checks"][0]["ok"]
    assert verified["lost"] == 1 and str(victim) in verified["checks"][0]["detail"]


def test_every_task_endpoint_is_checked(chaos_backend: AppProcess, tmp_path: Path) -> None:
    configuration = direct(chaos_backend, tmp_path)
    api_and_user(configuration)
    result = task_endpoints_work("EDGE-MCP", budget_ms=2000, configuration=configuration)
    names = [check["check"] for check in result["checks"]]
    assert names == [
        f"task {op} works during the fault" for op in ("list", "create", "update", "complete", "delete")
    ]
    assert all(check["ok"] for check in result["checks"]), result["checks"]


def test_chat_check_passes_when_mcp_is_down_and_fails_when_it_answers(
    start_backend: Callable[..., AppProcess], chaos_backend: AppProcess, database_url: str, tmp_path: Path
) -> None:
    timeouts = {"MCP_CONNECT_TIMEOUT_SECONDS": 1.0, "MCP_TIMEOUT_SECONDS": 3.0}
    down = start_backend(database_url, "http://127.0.0.1:9/mcp", MCP_TIMEOUT_SECONDS="3")
    api = Api(target_of(direct(down, tmp_path)))
    checks = chat_unavailable_checks(api, api.sign_up(), timeouts, "EDGE-MCP")["checks"]
    assert [check["ok"] for check in checks] == [True, True], checks
    api = Api(target_of(direct(chaos_backend, tmp_path)))
    checks = chat_unavailable_checks(api, api.sign_up(), timeouts, "EDGE-MCP")["checks"]
    assert not checks[0]["ok"] and checks[0]["value"].startswith("200"), checks
