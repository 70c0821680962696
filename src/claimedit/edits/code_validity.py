"""``code_validity``: a code of the set is denied when the code table has no entry for it in
force on the date of service (not yet effective, or deleted).

The dates live in ``codes.yaml``; the edit only says which codes it watches and what to answer.
"""

from __future__ import annotations

from collections.abc import Iterator

from claimedit.edits._check import Check, CodeTable, reason_for
from claimedit.pack import SourcedEdit
from claimedit.pack.models import CodeValidityEdit


def compile_code_validity(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, CodeValidityEdit)
    for code in sorted(table.expand(edit.codes)):
        if code not in table.in_force:
            yield code, Check(edit.id, reason_for(item, code))
