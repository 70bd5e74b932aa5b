"""Text that PostgreSQL can store: no NUL characters, no lone surrogates."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


StorableText = Annotated[str, AfterValidator(_storable)]
NonBlankText = Annotated[str, AfterValidator(_storable), AfterValidator(_not_blank)]
