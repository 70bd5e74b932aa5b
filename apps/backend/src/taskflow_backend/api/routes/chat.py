"""POST /api/{user_id}/chat: one turn with the task assistant.

No database connection is held while the MCP server is called, and nothing is stored unless the
turn succeeds, so a failed turn leaves no half-written conversation behind.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse

from taskflow_backend.api.deps import PathUser, ServicesDep
from taskflow_backend.chat.tools import RecordingToolbox
from taskflow_backend.crud.conversations import conversation_exists, recent_messages, save_turn
from taskflow_backend.mcp_client.client import McpUnavailableError
from taskflow_backend.metrics import CHAT_UNAVAILABLE
from taskflow_backend.schemas.chat import ChatRequest, ChatResponse, ErrorResponse

router = APIRouter(prefix="/api/{user_id}", tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        401: {"model": ErrorResponse, "description": "Missing, invalid or expired token"},
        403: {"model": ErrorResponse, "description": "The path names another user"},
        404: {"model": ErrorResponse, "description": "No such conversation for this user"},
        503: {"model": ErrorResponse, "description": "The MCP server is unavailable; see Retry-After"},
    },
)
async def chat(body: ChatRequest, user: PathUser, services: ServicesDep) -> ChatResponse | JSONResponse:
    history: list[tuple[str, str]] = []
    if body.conversation_id is not None:
        if not await conversation_exists(services.db, user, body.conversation_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"conversation {body.conversation_id} not found")
        if services.settings.llm_enabled:
            history = await recent_messages(services.db, body.conversation_id)

    tools = RecordingToolbox(services.mcp, user)
    try:
        reply = await services.agent.reply(body.message, history, tools)
    except McpUnavailableError as exc:
        CHAT_UNAVAILABLE.inc()
        retry_after = exc.retry_after_seconds
        return JSONResponse(
            {
                "detail": "the task assistant is unavailable right now; your tasks are unaffected",
                # A fixed phrase ("timed out", "unreachable", ...); the exception itself is in the log.
                "reason": exc.reason,
                "retry_after_seconds": retry_after,
            },
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(retry_after)},
        )

    records = [call.model_dump(mode="json") for call in tools.calls]
    conversation_id = await save_turn(
        services.db,
        user_id=user,
        conversation_id=body.conversation_id,
        user_message=body.message,
        reply=reply,
        tool_calls=records,
    )
    return ChatResponse(conversation_id=conversation_id, response=reply, tool_calls=tools.calls)
