"""Readers of the NCCI files as CMS publishes them (Medicare and Medicaid: the same columns).

**PTP** (``ccipra-*`` practitioner, ``ccioph-*`` outpatient hospital; tab-delimited text,
Latin-1, CRLF): a copyright-notice line, a title line ("Column1/Column2 Edits"), a header
wrapped over several lines ("Column 1", "Column 2", "*=in existence prior to 1996",
"Effective Date", "Deletion Date *=no data", "Modifier 0=not allowed 1=allowed 9=not
applicable", "PTP Edit Rationale"), then one pair a line.

**MUE** (CSV, Latin-1): a quoted, multi-line notice cell, a header whose first cell spans two
lines ("HCPCS/<newline>CPT Code", "<Setting> Services MUE Values", "MUE Adjudication
Indicator", "MUE Rationale"), then one code a row, the indicator written as a digit and words
("3 Date of Service Edit: Clinical").

Every row that cannot be read becomes a :class:`RowProblem` naming the file and line; the rows
around it are still read.

Example:
    >>> import io
    >>> text = io.StringIO("notice\\nColumn1/Column2 Edits\\nColumn 1\\tColumn 2\\t*=in\\n"
    ...                    "\\t\\tprior to 1996\\n77014\\tG6001\\t\\t20150101\\t*\\t1\\tMisuse\\n"
    ...                    "77014\\tG6002\\t\\t2015-01-01\\t*\\t1\\tMisuse\\n")
    >>> rows, problems = PtpColumns(), []
    >>> read_ptp(text, "f1.txt", rows, problems)
    >>> len(rows), [str(p) for p in problems]
    (1, ["f1.txt:6: effective date '2015-01-01' is not a date YYYYMMDD"])
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from typing import NamedTuple

from claimedit.ncci.table import NO_DELETION, MueLimit, PtpColumns

__all__ = ["RowProblem", "read_mue", "read_ptp"]

_CODE = re.compile(r"[0-9A-Z]{5}")
_HEADER_SEARCH_LINES = 40
_SHOWN = 40  # characters of a bad value quoted in a message
_INDICATORS = {"0": 0, "1": 1, "9": 9}
_MAI = re.compile(r"\s*([123])(?:\s|$)")
MUE_SETTINGS = {
    "practitioner": "practitioner",
    "outpatient hospital": "outpatient-hospital",
    "dme supplier": "dme",
}


class RowProblem(NamedTuple):
    """A row (or a file) that could not be read."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else \
            f"{self.file}: {self.message}"


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def _words(cell: str) -> str:
    return " ".join(cell.split()).lower()


class _Dates:
    """``YYYYMMDD`` text -> integer, checked once per distinct text (a file has a few thousand)."""

    def __init__(self) -> None:
        self.seen: dict[str, int | None] = {}

    def __call__(self, text: str) -> int | None:
        found = self.seen.get(text, -1)
        if found != -1:
            return found
        value: int | None = None
        stripped = text.strip()
        if len(stripped) == 8 and stripped.isdigit() and stripped.isascii():
            try:
                dt.date(int(stripped[:4]), int(stripped[4:6]), int(stripped[6:]))
                value = int(stripped)
            except ValueError:
                value = None
        self.seen[text] = value
        return value


class _Codes:
    """Code text -> its table number, checked once per distinct text."""

    def __init__(self) -> None:
        self.seen: dict[str, int | None] = {}

    def __call__(self, text: str) -> int | None:
        found = self.seen.get(text, -1)
        if found != -1:
            return found
        code = text.strip().upper()
        value = int(code, 36) if _CODE.fullmatch(code) else None
        self.seen[text] = value
        return value


def _is_ptp_header(cells: list[str]) -> bool:
    return len(cells) >= 2 and _words(cells[0]).replace(" ", "") == "column1" \
        and _words(cells[1]).replace(" ", "") == "column2"


def read_ptp(
    text: Iterable[str], name: str, rows: PtpColumns, problems: list[RowProblem]
) -> None:
    """Read one PTP text file into ``rows``; unreadable rows go to ``problems``.

    The preamble ends with the header: the line whose first cells read "Column 1", "Column 2",
    and the lines after it whose first two cells are empty (the wrapped rest of the header).
    Everything after is data; blank lines are skipped.
    """
    lines = iter(text)
    number = 0
    header_seen = False
    for line in lines:
        number += 1
        if _is_ptp_header(line.split("\t")):
            header_seen = True
            break
        if number >= _HEADER_SEARCH_LINES:
            break
    if not header_seen:
        problems.append(RowProblem(name, None, "no PTP header ('Column 1', 'Column 2') in the "
                                               f"first {_HEADER_SEARCH_LINES} lines"))
        return
    codes, dates = _Codes(), _Dates()
    add = rows.add
    in_header = True
    for line in lines:
        number += 1
        cells = line.rstrip("\r\n").split("\t")
        if in_header:
            if len(cells) >= 2 and not cells[0].strip() and not cells[1].strip():
                continue
            in_header = False
        if len(cells) < 6:
            if line.strip():
                problems.append(RowProblem(
                    name, number, f"{len(cells)} tab-separated fields, expected 7"))
            continue
        column1, column2, pre, effective_text, deletion_text, indicator_text = cells[:6]
        rationale = cells[6].strip() if len(cells) > 6 else ""
        column1_number = codes(column1)
        column2_number = codes(column2)
        effective = dates(effective_text)
        deletion_cell = deletion_text.strip()
        deletion = NO_DELETION if deletion_cell in ("*", "") else dates(deletion_text)
        indicator = _INDICATORS.get(indicator_text.strip())
        pre_cell = pre.strip()
        if (column1_number is None or column2_number is None or effective is None
                or deletion is None or indicator is None or pre_cell not in ("", "*")
                or deletion < effective or any(cell.strip() for cell in cells[7:])):
            problems.append(RowProblem(name, number, _ptp_row_problem(cells, codes, dates)))
            continue
        add(column1_number, column2_number, effective, deletion, pre_cell == "*", indicator,
            rationale)


def _ptp_row_problem(cells: list[str], codes: _Codes, dates: _Dates) -> str:
    """Say everything wrong with a row (the slow path: only bad rows come here)."""
    column1, column2, pre, effective_text, deletion_text, indicator_text = cells[:6]
    found = []
    for label, value in (("column 1", column1), ("column 2", column2)):
        if codes(value) is None:
            found.append(f"{label} code {_shown(value)} is not a CPT/HCPCS code")
    effective = dates(effective_text)
    if effective is None:
        found.append(f"effective date {_shown(effective_text)} is not a date YYYYMMDD")
    deletion = NO_DELETION if deletion_text.strip() in ("*", "") else dates(deletion_text)
    if deletion is None:
        found.append(f"deletion date {_shown(deletion_text)} is not a date YYYYMMDD or '*'")
    if effective is not None and deletion is not None and deletion < effective:
        found.append(f"deletion date {deletion_text.strip()} is before the effective date "
                     f"{effective_text.strip()}")
    if indicator_text.strip() not in _INDICATORS:
        found.append(f"modifier indicator {_shown(indicator_text)} is not 0, 1 or 9")
    if pre.strip() not in ("", "*"):
        found.append(f"pre-1996 flag {_shown(pre)} is not '*' or empty")
    if any(cell.strip() for cell in cells[7:]):
        found.append(f"{len(cells)} tab-separated fields, expected 7")
    return "; ".join(found)


def read_mue(
    text: Iterable[str], name: str, limits: list[MueLimit], problems: list[RowProblem],
    first_lines: dict[str, int] | None = None,
) -> str | None:
    """Read one MUE CSV file into ``limits``; unreadable rows go to ``problems``. Returns the
    setting its header names (``practitioner``, ``outpatient-hospital``, ``dme``), if any.

    ``first_lines`` (code -> line) finds codes listed twice, across files too.
    """
    reader = csv.reader(text)
    first_lines = {} if first_lines is None else first_lines
    end_line = 0
    columns: tuple[int, int, int, int] | None = None
    setting: str | None = None
    for cells in reader:
        start_line, end_line = end_line + 1, reader.line_num
        if columns is None:
            if cells and _words(cells[0]).replace(" ", "").startswith("hcpcs"):
                columns, setting = _mue_columns(cells)
                if columns is None:
                    problems.append(RowProblem(name, start_line, "MUE header without the columns "
                                               "'MUE Values' and 'MUE Adjudication Indicator'"))
                    return None
            elif start_line > _HEADER_SEARCH_LINES:
                break
            continue
        if not any(cell.strip() for cell in cells):
            continue
        code_at, units_at, indicator_at, rationale_at = columns
        found = []
        width = max(columns) + 1
        if len(cells) < width:
            problems.append(RowProblem(name, start_line,
                                       f"{len(cells)} comma-separated fields, expected {width}"))
            continue
        code = cells[code_at].strip().upper()
        if not _CODE.fullmatch(code):
            found.append(f"code {_shown(cells[code_at])} is not a CPT/HCPCS code")
        units_text = cells[units_at].strip()
        if not (units_text.isdigit() and units_text.isascii()):
            found.append(f"MUE value {_shown(cells[units_at])} is not a whole number of units")
        indicator = _MAI.match(cells[indicator_at])
        if indicator is None:
            found.append(f"MUE adjudication indicator {_shown(cells[indicator_at])} does not "
                         "start with 1, 2 or 3")
        if not found and code in first_lines:
            found.append(f"code {code} is listed twice (first at line {first_lines[code]})")
        if found:
            problems.append(RowProblem(name, start_line, "; ".join(found)))
            continue
        assert indicator is not None
        first_lines[code] = start_line
        rationale = cells[rationale_at].strip() if rationale_at >= 0 else ""
        limits.append(MueLimit(code, int(units_text), int(indicator.group(1)), rationale))
    if columns is None:
        problems.append(RowProblem(name, None, "no MUE header ('HCPCS/CPT Code', ...) in the "
                                               f"first {_HEADER_SEARCH_LINES} lines"))
    return setting


def _mue_columns(cells: list[str]) -> tuple[tuple[int, int, int, int] | None, str | None]:
    """Where the header puts the code, the units, the indicator and the rationale."""
    units = indicator = None
    rationale = -1
    setting = None
    for position, cell in enumerate(cells):
        words = _words(cell)
        if words.endswith("mue values") and units is None:
            units = position
            for label, value in MUE_SETTINGS.items():
                if words.startswith(label):
                    setting = value
        elif "adjudication indicator" in words and indicator is None:
            indicator = position
        elif "rationale" in words and rationale < 0:
            rationale = position
    if units is None or indicator is None:
        return None, None
    return (0, units, indicator, rationale), setting
