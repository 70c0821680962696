"""``line``: fires on a line of the code set that bills one of the components and carries every
modifier of ``modifiers_all``, whatever else was billed that day (e.g. 77387 for Medicare)."""

from __future__ import annotations

from collections.abc import Iterator

from claimedit.edits._check import Check, CodeTable, components_of, reason_for
from claimedit.pack import SourcedEdit
from claimedit.pack.models import LineEdit


def compile_line(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, LineEdit)
    components = components_of(edit.components)
    modifiers_all = frozenset(edit.modifiers_all) or None
    for code in sorted(table.expand(edit.codes)):
        yield code, Check(
            edit.id, reason_for(item, code), components=components, modifiers_all=modifiers_all
        )
