"""The chat agent: the configured model when there is one, the deterministic parser otherwise."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from taskflow_backend.chat.executor import execute
from taskflow_backend.chat.llm import LlmAgent, LlmError
from taskflow_backend.chat.parser import parse
from taskflow_backend.chat.tools import RecordingToolbox

logger = logging.getLogger(__name__)


class ChatAgent:
    def __init__(self, llm: LlmAgent | None = None) -> None:
        self._llm = llm

    async def reply(self, message: str, history: Sequence[tuple[str, str]], tools: RecordingToolbox) -> str:
        """Answer one message; McpUnavailableError propagates (the caller answers 503)."""
        if self._llm is not None:
            try:
                return await self._llm.reply(message, history, tools)
            except LlmError as exc:
                logger.warning("model unavailable; using the built-in parser", extra={"error": str(exc)})
        return await execute(parse(message), tools)
