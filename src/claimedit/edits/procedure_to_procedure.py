"""``procedure_to_procedure``: an NCCI-style pair edit. The column-2 line is bundled (or denied)
when another line of the claim with the same date of service carries a column-1 code, unless the
modifier indicator is 1 and the column-2 line carries one of the bypass modifiers. Indicator 9
means the edit is not in effect, so it compiles to nothing.

FAIL: 77385 + G6001-TC (the TC of IGRT is bundled into IMRT).
PASS: 77385 + G6001-26.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

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

__all__ = ["KIND", "ProcedureToProcedureEdit", "fires"]


class ProcedureToProcedureEdit(EditBase):
    """An NCCI-style procedure-to-procedure edit: a ``column2`` line is bundled (or denied) when a
    ``column1`` code is billed on another line of the claim with the same date of service.

    ``modifier_indicator`` as in NCCI: 0 no modifier bypasses the edit; 1 a modifier of
    ``bypass_modifiers`` on the column-2 line bypasses it; 9 the edit is not in effect.
    ``components`` limits the edit to the column-2 line's component (e.g. only its TC).

    FAIL: 77385 + G6001-TC (the TC of IGRT is bundled into IMRT).
    PASS: 77385 + G6001-26.
    """

    kind: Literal["procedure_to_procedure"]
    column1: CodeSet
    column2: CodeSet
    components: tuple[Component, ...] = Field(default=tuple(Component))
    modifier_indicator: Literal[0, 1, 9]
    bypass_modifiers: tuple[str, ...] = Field(
        default=(), description="With indicator 1: NCCI-associated modifiers, e.g. 59, XE, XS."
    )

    @field_validator("bypass_modifiers", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        return modifier_values(value)

    @field_validator("modifier_indicator", mode="before")
    @classmethod
    def _indicator(cls, value: Any) -> Any:
        # NCCI files write the indicator as a character.
        return int(value) if isinstance(value, str) and value.isdigit() else value

    @model_validator(mode="after")
    def _bypass_matches_indicator(self) -> ProcedureToProcedureEdit:
        if self.modifier_indicator == 1 and not self.bypass_modifiers:
            raise ValueError("modifier_indicator 1 needs the bypass_modifiers that bypass it")
        if self.modifier_indicator != 1 and self.bypass_modifiers:
            raise ValueError("bypass_modifiers only apply with modifier_indicator 1")
        return self


READS = frozenset({Fact.COMPONENTS, Fact.MODIFIERS, Fact.DAY_CODES})


def fires(
    facts: Facts,
    *,
    components: frozenset[str] | None,
    column1: frozenset[str],
    bypass: frozenset[str],
) -> bool:
    """A column-1 code is billed on another line that day, the line bills one of
    ``components`` (None: any), and it carries no bypass modifier."""
    if components is not None and components.isdisjoint(facts.components):
        return False
    if column1.isdisjoint(facts.day_codes):
        return False
    return bypass.isdisjoint(facts.modifiers)


def compile_procedure_to_procedure(
    item: SourcedEdit, table: CodeTable
) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, ProcedureToProcedureEdit)
    if edit.modifier_indicator == 9:
        return
    column1 = table.expand(edit.column1)
    bypass = frozenset(edit.bypass_modifiers)
    test = partial(
        fires, components=components_of(edit.components), column1=column1, bypass=bypass
    )
    for code in sorted(table.expand(edit.column2)):
        yield code, Check(
            edit.id, reason_for(item, code), test, READS, modifiers=bypass, day_codes=column1
        )


KIND = Kind(
    "procedure_to_procedure", ProcedureToProcedureEdit, compile_procedure_to_procedure, READS,
    ("column1", "column2"),
)
