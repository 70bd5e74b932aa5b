"""Schemathesis over the backend's own OpenAPI document: no input, however odd, gets a 5xx.

Generated requests carry a valid token and the token's user id in the path, so they reach the
handlers and the database rather than stopping at authentication.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from app_processes import AppProcess, SignedUpUser
from schemathesis.checks import not_a_server_error
from taskflow_backend.core.config import Settings
from taskflow_backend.main import create_app

# Chat is fuzzed too; with the MCP server up its tool calls run for real.
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def fuzz_user(signed_up_user: SignedUpUser) -> SignedUpUser:
    return signed_up_user


def _openapi_document() -> dict[str, Any]:
    """The document the running backend serves (building the app touches no database)."""
    unused = "unused-" * 8
    settings = Settings(
        database_url="postgresql://unused@127.0.0.1/unused",  # type: ignore[arg-type]
        jwt_secret=unused,  # type: ignore[arg-type]
        mcp_token_secret=unused,  # type: ignore[arg-type]
    )
    return create_app(settings).openapi()


schema = schemathesis.openapi.from_dict(_openapi_document())


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_no_input_causes_a_server_error(
    case: Any, fuzz_user: SignedUpUser, backend_server: AppProcess
) -> None:
    if "user_id" in (case.path_parameters or {}):
        case.path_parameters["user_id"] = fuzz_user.user_id
    case.call_and_validate(
        base_url=backend_server.base_url,
        headers={"Authorization": f"Bearer {fuzz_user.token}"},
        checks=[not_a_server_error],
    )
