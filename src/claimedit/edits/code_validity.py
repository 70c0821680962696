"""``code_validity``: a code of the set is denied when the code table has no entry for it in
force on the date of service (not yet effective, or deleted).

The dates live in ``codes.yaml``; the edit only says which codes it watches and what to answer.
Whether a code is in force is settled when the pack is compiled (one index per span of dates),
so the predicate reads nothing of the line: a compiled check always fires.

FAIL: G6001-26 on 2014-12-31 (G6001 effective 2015-01-01).
PASS: G6001-26 on 2025-03-03.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from claimedit.edits._check import Check, CodeTable, Fact, Facts, Kind, reason_for
from claimedit.edits._schema import CodeSet, EditBase

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "CodeValidityEdit", "fires"]


class CodeValidityEdit(EditBase):
    """Denies a code of ``codes`` when no code-table entry for it is in force on the date of
    service (not yet effective, or deleted).

    FAIL: G6001-26 on 2014-12-31 (G6001 effective 2015-01-01).
    PASS: G6001-26 on 2025-03-03.
    """

    kind: Literal["code_validity"]
    codes: CodeSet


READS: frozenset[Fact] = frozenset()


def fires(facts: Facts) -> bool:
    """Compiled only for codes not in force that day: the check always fires."""
    return True


def compile_code_validity(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, CodeValidityEdit)
    for code in sorted(table.expand(edit.codes)):
        if code not in table.in_force:
            yield code, Check(edit.id, reason_for(item, code), fires, READS)


KIND = Kind("code_validity", CodeValidityEdit, compile_code_validity, READS, ("codes",))
