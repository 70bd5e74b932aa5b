"""Chat conversations and their messages."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg


async def conversation_exists(db: asyncpg.Pool, user_id: uuid.UUID, conversation_id: int) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM conversations WHERE user_id = $1 AND id = $2", user_id, conversation_id
    )
    return found is not None


async def recent_messages(db: asyncpg.Pool, conversation_id: int, limit: int = 20) -> list[tuple[str, str]]:
    """The conversation's last `limit` messages as (role, content), oldest first."""
    rows = await db.fetch(
        "SELECT role, content FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
        conversation_id,
        limit,
    )
    return [(row["role"], row["content"]) for row in reversed(rows)]


async def save_turn(
    db: asyncpg.Pool,
    *,
    user_id: uuid.UUID,
    conversation_id: int | None,
    user_message: str,
    reply: str,
    tool_calls: list[dict[str, Any]],
) -> int:
    """Store one exchange in a single transaction (creating the conversation if needed); return its id."""
    async with db.acquire() as connection, connection.transaction():
        if conversation_id is None:
            conversation_id = await connection.fetchval(
                "INSERT INTO conversations (user_id, created_at, updated_at) VALUES ($1, now(), now()) "
                "RETURNING id",
                user_id,
            )
        else:
            await connection.execute(
                "UPDATE conversations SET updated_at = now() WHERE id = $1", conversation_id
            )
        await connection.executemany(
            "INSERT INTO messages (conversation_id, role, content, tool_calls, created_at) "
            "VALUES ($1, $2, $3, $4::jsonb, now())",
            [
                (conversation_id, "user", user_message, None),
                (conversation_id, "assistant", reply, json.dumps(tool_calls)),
            ],
        )
    assert conversation_id is not None
    return conversation_id
