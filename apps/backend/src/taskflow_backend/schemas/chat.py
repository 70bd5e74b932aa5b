"""The chat endpoint's bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from taskflow_backend.schemas.text import NonBlankText

MESSAGE_MAX = 2000


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[NonBlankText, Field(min_length=1, max_length=MESSAGE_MAX)]
    conversation_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None


class ChatResponse(BaseModel):
    conversation_id: int
    response: str
    tool_calls: list[ToolCallRecord]


class ErrorResponse(BaseModel):
    detail: Any
