"""``component_modifier``: modifier 26 or TC on a code whose code-table entry does not allow it.

Which code may carry which modifier is data (``modifier_26`` / ``modifier_tc`` in
``codes.yaml``, from the CMS PC/TC indicator or the policy); the edit applies it.
"""

from __future__ import annotations

from collections.abc import Iterator

from claimedit.edits._check import Check, CodeTable, reason_for
from claimedit.pack import SourcedEdit
from claimedit.pack.models import Component, ComponentModifierEdit


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
            yield code, Check(edit.id, reason_for(item, code), components=frozenset(refused))
