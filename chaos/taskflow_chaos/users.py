"""One signed-up user per experiment process, shared by its probes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskflow_chaos.api import Api, User
from taskflow_chaos.target import target_of

_users: dict[str, User] = {}


def api_and_user(configuration: Mapping[str, Any] | None) -> tuple[Api, User]:
    api = Api(target_of(configuration))
    key = f"{api.target.ingress_address}:{api.target.ingress_port}/{api.target.namespace}"
    if key not in _users:
        _users[key] = api.sign_up()
    return api, _users[key]
