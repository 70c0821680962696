"""``component_modifier``: modifier 26 or TC on a code whose code-table entry does not allow it.

Which code may carry which modifier is data (``modifier_26`` / ``modifier_tc`` in
``codes.yaml``, from the CMS PC/TC indicator or the policy); the edit applies it.

FAIL: G6017-26 (G6017 takes neither 26 nor TC).
PASS: G6001-26.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Literal

from claimedit.edits._check import Check, CodeTable, Fact, Facts, Kind, reason_for
from claimedit.edits._schema import CodeSet, Component, EditBase

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "ComponentModifierEdit", "fires"]


class ComponentModifierEdit(EditBase):
    """Fires when a line of ``codes`` carries modifier 26 or TC that its code-table entry does not
    allow (``modifier_26`` / ``modifier_tc``).

    FAIL: G6017-26 (G6017 takes neither 26 nor TC).
    PASS: G6001-26.
    """

    kind: Literal["component_modifier"]
    codes: CodeSet


READS = frozenset({Fact.COMPONENTS})


def fires(facts: Facts, *, refused: frozenset[str]) -> bool:
    """The line bills a component (professional / technical) its code refuses."""
    return not refused.isdisjoint(facts.components)


def compile_component_modifier(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, ComponentModifierEdit)
    for code in sorted(table.expand(edit.codes)):
        entry = table.in_force.get(code)
        if entry is None:
            continue  # a code not in force is code_validity's business, not this edit's
        refused = set()
        if not entry.modifier_26:
            refused.add(str(Component.PROFESSIONAL))
        if not entry.modifier_tc:
            refused.add(str(Component.TECHNICAL))
        if refused:
            test = partial(fires, refused=frozenset(refused))
            yield code, Check(edit.id, reason_for(item, code), test, READS)


KIND = Kind(
    "component_modifier", ComponentModifierEdit, compile_component_modifier, READS, ("codes",)
)
