"""Chat conversations and their messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskflow_backend.db.models import Conversation, Message


async def conversation_exists(session: AsyncSession, user_id: uuid.UUID, conversation_id: int) -> bool:
    query = select(Conversation.id).where(Conversation.user_id == user_id, Conversation.id == conversation_id)
    return (await session.scalars(query)).one_or_none() is not None


async def recent_messages(session: AsyncSession, conversation_id: int, limit: int = 20) -> Sequence[Message]:
    """The conversation's last `limit` messages, oldest first."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.scalars(query)).all()))


async def save_turn(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    conversation_id: int | None,
    user_message: str,
    reply: str,
    tool_calls: list[dict[str, Any]],
) -> int:
    """Store one exchange in a single transaction (creating the conversation if needed); return its id."""
    if conversation_id is None:
        conversation = Conversation(user_id=user_id)
        session.add(conversation)
        await session.flush()
        conversation_id = conversation.id
    else:
        await session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(updated_at=func.now())
        )
    session.add_all(
        [
            Message(conversation_id=conversation_id, role="user", content=user_message, tool_calls=None),
            Message(conversation_id=conversation_id, role="assistant", content=reply, tool_calls=tool_calls),
        ]
    )
    await session.commit()
    return conversation_id
