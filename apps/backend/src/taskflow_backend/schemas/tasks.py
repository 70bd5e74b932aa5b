"""Task bodies. Limits (title 1-200, description <= 1000) are DESIGN.md's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskflow_backend.db.models import DESCRIPTION_MAX, TITLE_MAX
from taskflow_backend.schemas.text import NonBlankText, StorableText

Title = Annotated[NonBlankText, Field(min_length=1, max_length=TITLE_MAX)]
Description = Annotated[StorableText, Field(max_length=DESCRIPTION_MAX)]


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""


class TaskUpdate(BaseModel):
    """Fields to change; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> TaskUpdate:
        if self.title is None and self.description is None and self.completed is None:
            raise ValueError("give at least one of title, description, completed")
        return self


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    completed: bool
    created_at: datetime
    updated_at: datetime
