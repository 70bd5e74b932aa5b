"""User accounts."""

from __future__ import annotations

import uuid

import asyncpg


class EmailTakenError(Exception):
    """Another account already uses this email address."""


async def create_user(db: asyncpg.Pool, email: str, name: str, password_hash: str) -> uuid.UUID:
    try:
        user_id: uuid.UUID = await db.fetchval(
            "INSERT INTO users (id, email, name, password_hash, created_at) "
            "VALUES ($1, $2, $3, $4, now()) RETURNING id",
            uuid.uuid4(),
            email,
            name,
            password_hash,
        )
    except asyncpg.UniqueViolationError as exc:
        raise EmailTakenError(email) from exc
    return user_id


async def get_login(db: asyncpg.Pool, email: str) -> tuple[uuid.UUID, str] | None:
    """The account's id and password hash, or None for an unknown email."""
    row = await db.fetchrow("SELECT id, password_hash FROM users WHERE email = $1", email)
    return None if row is None else (row["id"], row["password_hash"])
