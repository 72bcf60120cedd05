"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class StrictInput(BaseModel):
    """Base for request bodies: unknown fields are an error, so a typo never silently drops data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    """Base for responses, read straight from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


def page_of(out: type[Output], rows: Iterable[Any], total: int, *, limit: int, offset: int) -> Page[Any]:
    """Validate ORM rows into ``out`` and wrap them as one page."""
    return Page(items=[out.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)
