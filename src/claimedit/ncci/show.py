"""``claimedit rules show --code CODE``: the edits that watch a code on a date, and for the
table-backed NCCI edits the rows of the CMS table in force for it (the PTP pairs it is column 1
or column 2 of, its MUE limit).

Example:
    >>> import datetime as dt, claimedit
    >>> engine = claimedit.load_engine()
    >>> day = dt.date(2025, 6, 2)
    >>> [item.edit.id for item in engine.edits_in_force(day, payer="medicare")
    ...  if watches(item, "77387", day, engine.pack.codes) and "77387" in item.edit.id]
    ['IGRT-MEDICARE-77387']
    >>> [item.edit.id for item in engine.edits_in_force(day, payer="medicare")
    ...  if watches(item, "99213", day, engine.pack.codes)]
    []
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from claimedit.edits import KINDS, CodeTable, MueTableFileEdit, PtpTableFileEdit
from claimedit.edits._schema import CodeEntry, CodeSet
from claimedit.ncci.table import MueTable, PtpTable
from claimedit.pack import SourcedEdit

__all__ = ["table_rows", "watches"]


def watches(item: SourcedEdit, code: str, day: dt.date, codes: Iterable[CodeEntry]) -> bool:
    """Can the edit fire on a line of ``code``? Table-backed edits: when their table lists the
    code; other kinds: when one of their code sets holds it."""
    edit = item.edit
    if isinstance(edit, PtpTableFileEdit | MueTableFileEdit):
        return bool(table_rows(item, code, day))
    table = CodeTable(codes, day)
    for key in KINDS[edit.kind].code_sets:
        code_set = getattr(edit, key, None)
        if isinstance(code_set, CodeSet) and code in table.expand(code_set):
            return True
    return False


def table_rows(item: SourcedEdit, code: str, day: dt.date) -> list[dict[str, Any]]:
    """The rows of a table-backed edit's table for ``code`` in force on ``day``: PTP pairs
    where the code is column 2 (the line denied) or column 1, or its MUE limit."""
    edit = item.edit
    if isinstance(edit, PtpTableFileEdit) and edit.table_path is not None:
        return [
            {"column1": row.column1, "column2": row.column2,
             "effective": row.effective.isoformat(),
             "deletion": row.deletion.isoformat() if row.deletion else None,
             "modifier_indicator": row.modifier_indicator, "rationale": row.rationale}
            for row in PtpTable.open(edit.table_path).pairs_of(code, as_of=day)
        ]
    if isinstance(edit, MueTableFileEdit) and edit.table_path is not None:
        limit = MueTable.open(edit.table_path).limit(code)
        if limit is not None:
            return [{"code": limit.code, "mue": limit.units,
                     "adjudication_indicator": limit.adjudication_indicator,
                     "rationale": limit.rationale}]
    return []


def format_row(row: dict[str, Any]) -> str:
    """One table row for people."""
    if "column1" in row:
        deletion = row["deletion"] or "*"
        return (f"{row['column1']}/{row['column2']}  effective {row['effective']}  deletion "
                f"{deletion}  indicator {row['modifier_indicator']}  {row['rationale']}")
    return (f"{row['code']}  MUE {row['mue']}  adjudication indicator "
            f"{row['adjudication_indicator']}  {row['rationale']}")
