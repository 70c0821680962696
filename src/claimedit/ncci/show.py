"""``claimedit rules show --code CODE``: the edits that watch a code on a date, and for the
table-backed NCCI edits the rows of the CMS table in force for it (the PTP pairs it is column 1
or column 2 of, its MUE limit).

Example:
    >>> import datetime as dt, claimedit
    >>> engine = claimedit.load_engine()
    >>> day = dt.date(2025, 6, 2)
    >>> [item.edit.id for item in watching(engine, engine.edits_in_force(day, payer="medicare"),
    ...                                      "77387", day) if "77387" in item.edit.id]
    ['IGRT-MEDICARE-77387']
    >>> watching(engine, engine.edits_in_force(day, payer="medicare"), "99213", day)
    []
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from claimedit.edits import KINDS, CodeTable, MueTableFileEdit, PtpTableFileEdit
from claimedit.edits._schema import CodeEntry, CodeSet
from claimedit.ncci.table import MueTable, PtpTable
from claimedit.pack import RulePack, SourcedEdit

if TYPE_CHECKING:
    from claimedit.engine import Engine

__all__ = ["format_row", "table_rows", "watches", "watching"]


def watches(item: SourcedEdit, code: str, day: dt.date, codes: Iterable[CodeEntry]) -> bool:
    """Can the edit fire on a line of ``code``? Table-backed edits: when their table lists the
    code; other kinds: when one of their code sets holds it (``codes``: the code table of the
    edit's pack)."""
    edit = item.edit
    if isinstance(edit, PtpTableFileEdit | MueTableFileEdit):
        return bool(table_rows(item, code, day))
    table = CodeTable(codes, day)
    for key in KINDS[edit.kind].code_sets:
        code_set = getattr(edit, key, None)
        if isinstance(code_set, CodeSet) and code in table.expand(code_set):
            return True
    for key, columns in KINDS[edit.kind].code_rows:
        for row in getattr(edit, key, ()):
            if any(getattr(row, column, None) == code for column in columns):
                return True
    return False


def watching(engine: Engine, edits: Iterable[SourcedEdit], code: str, day: dt.date
             ) -> list[SourcedEdit]:
    """The edits of ``edits`` that can fire on a line of ``code``, each judged against the
    code table of its own pack."""
    pack_of: dict[int, RulePack] = {}
    for pack in engine.packs:
        for item in (*pack.edits, *(edit for overlay in pack.overlays for edit in overlay.edits)):
            pack_of[id(item)] = pack
    return [item for item in edits
            if watches(item, code, day, pack_of.get(id(item), engine.pack).codes)]


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
