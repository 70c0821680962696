"""``line``: fires on a line of the code set that bills one of the components and carries every
modifier of ``modifiers_all``, whatever else was billed that day (e.g. 77387 for Medicare).

FAIL (Medicare 77387 edit): medicare, 77387-26.
PASS: commercial, 77387-TC with conventional delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from claimedit.edits._check import (
    Check,
    CodeTable,
    Fact,
    Facts,
    Kind,
    components_of,
    reason_for,
)
from claimedit.edits._schema import CodeSet, Component, EditBase, modifier_values

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "LineEdit", "fires"]


class LineEdit(EditBase):
    """Fires on a line of ``codes`` billing one of ``components`` and carrying every modifier
    of ``modifiers_all``; nothing else billed that day matters.

    FAIL (Medicare 77387 edit): medicare, 77387-26.
    PASS: commercial, 77387-TC with conventional delivery.
    """

    kind: Literal["line"]
    codes: CodeSet
    components: tuple[Component, ...] = Field(default=tuple(Component))
    modifiers_all: tuple[str, ...] = Field(
        default=(), description="Modifiers that must all be on the line for the edit to fire."
    )

    @field_validator("modifiers_all", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        return modifier_values(value)


READS = frozenset({Fact.COMPONENTS, Fact.MODIFIERS})


def fires(
    facts: Facts, *, components: frozenset[str] | None, modifiers_all: frozenset[str]
) -> bool:
    """The line bills one of ``components`` (None: any) and carries all of ``modifiers_all``."""
    if components is not None and components.isdisjoint(facts.components):
        return False
    return modifiers_all.issubset(facts.modifiers)


def compile_line(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, LineEdit)
    modifiers_all = frozenset(edit.modifiers_all)
    test = partial(fires, components=components_of(edit.components), modifiers_all=modifiers_all)
    for code in sorted(table.expand(edit.codes)):
        yield code, Check(edit.id, reason_for(item, code), test, READS, modifiers=modifiers_all)


KIND = Kind("line", LineEdit, compile_line, READS, ("codes",))
