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

__all__ = ["describe_rows", "format_row", "imported_summary", "table_rows", "watches",
           "watching"]


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


def describe_rows(rows: list[dict[str, Any]], code: str) -> list[str]:
    """The rows for people, PTP pairs under a heading saying which column the code is in.

    >>> for line in describe_rows([{"column1": "77014", "column2": "G6001",
    ...         "effective": "2015-01-01", "deletion": None, "modifier_indicator": 1,
    ...         "rationale": "Mutually exclusive"}], "G6001"):
    ...     print(line)
    as column 2 (not paid when billed with):
      77014/G6001  effective 2015-01-01  deletion *  indicator 1  Mutually exclusive
    """
    out: list[str] = []
    heading = None
    for row in rows:
        if "column1" in row:
            wanted = ("as column 2 (not paid when billed with):" if row["column2"] == code
                      else "as column 1 (the other code is not paid):")
            if wanted != heading:
                heading = wanted
                out.append(wanted)
            out.append(f"  {format_row(row)}")
        else:
            out.append(format_row(row))
    return out


def imported_summary(pack: RulePack) -> list[str]:
    """What an imported pack says it was imported from (``pack.yaml``, ``imported_from``), for
    ``rules check``; nothing for a pack written by hand.

    >>> import claimedit
    >>> imported_summary(claimedit.load_pack(claimedit.pack.packaged_rules_path()))
    []
    """
    imported = pack.meta.imported_from
    if not imported:
        return []
    out = [f"imported: CMS {imported.get('program', '?')} NCCI {imported.get('setting', '?')} "
           f"tables, {imported.get('quarter', '?')}, for {', '.join(imported.get('payers', []))}"
           f" ({imported.get('claim_type', '?')} claims); "
           f"{imported.get('rows_skipped', 0)} unreadable rows skipped"]
    for kind in ("ptp", "mue"):
        table = imported.get(kind)
        if table:
            files = ", ".join(f"{item['name']} ({item['rows']} rows)" for item in table["files"])
            out.append(f"{kind.upper()}: {table['rows']} rows in {table['table']}, from {files}")
    return out

