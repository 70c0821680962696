"""``procedure_to_procedure``: an NCCI-style pair edit. The column-2 line is bundled (or denied)
when another line of the claim with the same date of service carries a column-1 code, unless the
modifier indicator is 1 and the column-2 line carries one of the bypass modifiers. Indicator 9
means the edit is not in effect, so it compiles to nothing."""

from __future__ import annotations

from collections.abc import Iterator

from claimedit.edits._check import Check, CodeTable, components_of, reason_for
from claimedit.pack import SourcedEdit
from claimedit.pack.models import ProcedureToProcedureEdit


def compile_procedure_to_procedure(
    item: SourcedEdit, table: CodeTable
) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, ProcedureToProcedureEdit)
    if edit.modifier_indicator == 9:
        return
    column1 = table.expand(edit.column1)
    components = components_of(edit.components)
    bypass = frozenset(edit.bypass_modifiers) or None
    for code in sorted(table.expand(edit.column2)):
        yield code, Check(
            edit.id, reason_for(item, code), components=components, column1=column1, bypass=bypass
        )
