"""The compact table files of an imported NCCI pack: PTP pairs and MUE limits.

Why this form (see ``docs/architecture.md``, "NCCI tables"): a practitioner PTP table holds
about two million pairs. A Python object per pair costs ~200 bytes and a second or more per
million to build; SQLite costs a query (microseconds) per look-up. Here the pairs are sorted,
fixed-width, columnar arrays in one binary file, memory-mapped and read through
``memoryview.cast``: opening is a header read (milliseconds, no parsing, no model per row), the
pages a workload touches are the only ones brought into memory, and the operating system shares
them between processes that map the same file. A look-up is a binary search (``bisect``, in C)
over the sorted 64-bit keys ``column2 << 26 | column1``.

A code is 5 characters of ``0-9A-Z`` (CPT, HCPCS Level II): read in base 36 it is an integer
below 36**5 < 2**26, so a pair fits one unsigned 64-bit key. Dates are ``YYYYMMDD`` integers,
which sort as the dates do; "no deletion date" (CMS ``*``) is 99991231.

File layout (little-endian)::

    b"CLMNCCI\\x01"  uint32 header length   header (JSON, UTF-8)   padding to 8
    sections, each 8-aligned, as the header's "sections" says: name -> [offset, typecode, count]

Example:
    >>> import datetime as dt, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ptp.bin"
    >>> _ = write_ptp_table(path, [PairRow("77014", "G6001", dt.date(2015, 1, 1), None, False, 1,
    ...                                    "Mutually exclusive procedures")], {"setting": "x"})
    >>> table = PtpTable.open(path)
    >>> table.in_force("77014", "G6001", dt.date(2024, 9, 3)).modifier_indicator
    1
"""

from __future__ import annotations

import datetime as dt
import json
import mmap
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "NO_DELETION",
    "MueLimit",
    "MueTable",
    "PairRow",
    "PtpColumns",
    "PtpTable",
    "TableFileError",
    "code_number",
    "date_number",
    "number_code",
    "write_mue_table",
    "write_ptp_table",
]

_MAGIC = b"CLMNCCI\x01"
_COLUMN1_BITS = 26
_COLUMN1_MASK = (1 << _COLUMN1_BITS) - 1
NO_DELETION = 99991231
"""The deletion date of a pair CMS has not deleted (``*`` in the file)."""

_PRE_1996 = 0x10  # flag bit; the low nibble holds the modifier indicator
_CACHE_LIMIT = 1 << 16
_PARTNER_LIMIT = 1 << 12  # codes whose column-1 partners are kept (a few hundred codes each)


class TableFileError(ValueError):
    """A table file is not one this library wrote, or is damaged."""


def code_number(code: str) -> int:
    """The integer of a 5-character code (base 36), the order the tables are sorted in.

    >>> number_code(code_number("G6001"))
    'G6001'
    """
    return int(code, 36)


def number_code(number: int) -> str:
    digits = []
    for _ in range(5):
        number, digit = divmod(number, 36)
        digits.append("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit])
    return "".join(reversed(digits))


def date_number(day: dt.date) -> int:
    """``YYYYMMDD`` as an integer: compares as the dates do."""
    return day.year * 10000 + day.month * 100 + day.day


def _number_date(number: int) -> dt.date | None:
    if number >= NO_DELETION:
        return None
    return dt.date(number // 10000, number // 100 % 100, number % 100)


class PairRow(NamedTuple):
    """One row of a PTP table, as CMS publishes it."""

    column1: str
    column2: str
    effective: dt.date
    deletion: dt.date | None
    """Last date of service the pair is in force; ``None``: not deleted (``*``)."""
    pre_1996: bool
    """The pair was in existence before 1996 (``*`` in the file)."""
    modifier_indicator: int
    """0: no modifier bypasses the edit; 1: an NCCI-associated modifier may; 9: not in effect."""
    rationale: str

    def in_force(self, day: dt.date) -> bool:
        """Effective <= day <= deletion, and the indicator is not 9 (never in force)."""
        return (self.modifier_indicator != 9 and self.effective <= day
                and (self.deletion is None or day <= self.deletion))


class MueLimit(NamedTuple):
    """One row of an MUE table: the most units of a code per line or per date of service."""

    code: str
    units: int
    adjudication_indicator: int
    """1 line edit; 2 date of service edit, policy; 3 date of service edit, clinical."""
    rationale: str


# -- writing ---------------------------------------------------------------------------------------


def _write(path: Path, header: dict[str, Any], sections: Sequence[tuple[str, array[int]]]) -> None:
    """Write the header and the sections (each 8-aligned) to ``path``."""
    offsets: dict[str, list[Any]] = {}
    # Two passes: the header's length depends on the offsets, which depend on its length.
    body_start = 0
    for _ in range(3):
        position = body_start
        for name, values in sections:
            offsets[name] = [position, values.typecode, len(values)]
            position += _padded(len(values) * values.itemsize)
        header["sections"] = offsets
        encoded = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
        start = _padded(len(_MAGIC) + 4 + len(encoded))
        if start == body_start:
            break
        body_start = start
    with open(path, "wb") as out:
        out.write(_MAGIC + len(encoded).to_bytes(4, "little") + encoded)
        out.write(b"\0" * (body_start - len(_MAGIC) - 4 - len(encoded)))
        for _name, values in sections:
            if sys.byteorder != "little":
                values = array(values.typecode, values)
                values.byteswap()
            data = values.tobytes()
            out.write(data + b"\0" * (_padded(len(data)) - len(data)))


def _padded(size: int) -> int:
    return (size + 7) // 8 * 8


class PtpColumns:
    """PTP rows gathered column by column (no object per row): what a reader fills and
    :func:`write_ptp_table` sorts and writes. Codes must already be checked (5 of ``0-9A-Z``)."""

    def __init__(self) -> None:
        self.keys: array[int] = array("Q")
        self.effective: array[int] = array("I")
        self.deletion: array[int] = array("I")
        self.flags: array[int] = array("B")
        self.rationale: array[int] = array("H")
        self.texts: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, column1: int, column2: int, effective: int, deletion: int, pre_1996: bool,
            indicator: int, rationale: str) -> None:
        """Add a row: codes as :func:`code_number`, dates as :func:`date_number`."""
        self.keys.append(column2 << _COLUMN1_BITS | column1)
        self.effective.append(effective)
        self.deletion.append(deletion)
        self.flags.append(indicator | (_PRE_1996 if pre_1996 else 0))
        number = self.texts.get(rationale)
        if number is None:
            number = self.texts[rationale] = len(self.texts)
        self.rationale.append(number)

    def add_row(self, row: PairRow) -> None:
        self.add(code_number(row.column1), code_number(row.column2), date_number(row.effective),
                 NO_DELETION if row.deletion is None else date_number(row.deletion),
                 row.pre_1996, row.modifier_indicator, row.rationale)


def write_ptp_table(
    path: Path, rows: PtpColumns | Iterable[PairRow], info: dict[str, Any]
) -> int:
    """Sort and write PTP rows; returns the number of rows. ``info`` goes into the header."""
    if not isinstance(rows, PtpColumns):
        columns = PtpColumns()
        for row in rows:
            columns.add_row(row)
        rows = columns
    return _write_sorted_ptp(path, rows.keys, rows.effective, rows.deletion, rows.flags,
                             rows.rationale, rows.texts, info)


def _write_sorted_ptp(
    path: Path,
    keys: array[int],
    effective: array[int],
    deletion: array[int],
    flags: array[int],
    rationale: array[int],
    texts: dict[str, int],
    info: dict[str, Any],
) -> int:
    count = len(keys)
    if count >= 1 << 32:
        raise ValueError("a PTP table holds fewer than 2**32 rows")
    # Rationale numbers in text order, so the file does not depend on the order rows came in.
    ordered = sorted(texts)
    renumber = array("H", [0] * max(len(texts), 1))
    for number, text in enumerate(ordered):
        renumber[texts[text]] = number
    # One sort of plain ints (fast in C): key, dates, indicator, rationale, then the row, so that
    # equal rows keep their input order and the same input gives the same bytes.
    bits = count.bit_length() or 1
    order = sorted(
        ((((keys[i] << 27 | effective[i]) << 27 | deletion[i]) << 5 | flags[i]) << 16
         | renumber[rationale[i]]) << bits | i
        for i in range(count)
    )
    mask = (1 << bits) - 1
    permutation = array("I", (item & mask for item in order))
    del order
    sorted_keys = array("Q", (keys[i] for i in permutation))
    # Row numbers in column-1 order, for "every pair of this code" (rules show): the same rows,
    # sorted by column 1, then column 2, then effective date.
    swapped = sorted(
        ((key & _COLUMN1_MASK) << _COLUMN1_BITS | key >> _COLUMN1_BITS) << bits | i
        for i, key in enumerate(sorted_keys)
    )
    by_column1 = array("I", (item & mask for item in swapped))
    del swapped
    header = dict(info, kind="ptp", rows=count, rationales=ordered)
    _write(path, header, [
        ("keys", sorted_keys),
        ("effective", array("I", (effective[i] for i in permutation))),
        ("deletion", array("I", (deletion[i] for i in permutation))),
        ("flags", array("B", (flags[i] for i in permutation))),
        ("rationale", array("H", (renumber[rationale[i]] for i in permutation))),
        ("by_column1", by_column1),
    ])
    return count


def write_mue_table(path: Path, limits: Iterable[MueLimit], info: dict[str, Any]) -> int:
    """Write MUE limits sorted by code; returns the number of codes. A code listed twice keeps
    its first row (the importer reports the others)."""
    by_code: dict[int, MueLimit] = {}
    for limit in limits:
        by_code.setdefault(code_number(limit.code), limit)
    texts = sorted({limit.rationale for limit in by_code.values()})
    numbers = {text: number for number, text in enumerate(texts)}
    codes = sorted(by_code)
    _write(path, dict(info, kind="mue", rows=len(codes), rationales=texts), [
        ("codes", array("I", codes)),
        ("units", array("I", (by_code[code].units for code in codes))),
        ("indicator", array("B", (by_code[code].adjudication_indicator for code in codes))),
        ("rationale", array("H", (numbers[by_code[code].rationale] for code in codes))),
    ])
    return len(codes)


# -- reading ---------------------------------------------------------------------------------------


class _Mapped:
    """A table file opened read-only: its header and its sections as typed sequences."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        with open(path, "rb") as handle:
            try:
                self._map: mmap.mmap | bytes = mmap.mmap(
                    handle.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                self._map = b""
        data = self._map
        if data[:8] != _MAGIC:
            raise TableFileError(f"{path}: not a claimedit NCCI table file")
        size = int.from_bytes(data[8:12], "little")
        try:
            self.header: dict[str, Any] = json.loads(bytes(data[12:12 + size]))
        except ValueError:
            raise TableFileError(f"{path}: damaged header") from None
        if self.header.get("kind") != kind:
            raise TableFileError(f"{path}: a {self.header.get('kind')} table, not {kind}")
        self._view = memoryview(data)

    def section(self, name: str) -> Sequence[int]:
        try:
            offset, typecode, count = self.header["sections"][name]
        except (KeyError, ValueError):
            raise TableFileError(f"{self.path}: no section {name!r}") from None
        width = array(typecode).itemsize
        raw = self._view[offset:offset + count * width]
        if len(raw) != count * width:
            raise TableFileError(f"{self.path}: section {name!r} is cut short")
        if sys.byteorder == "little":
            # Zero copy: the pages are read from the file when first touched.
            return raw.cast(typecode)
        values = array(typecode)
        values.frombytes(raw)
        values.byteswap()
        return values


class PtpTable:
    """A PTP table file, memory-mapped. Immutable and safe to share between threads; pickles as
    its path (the receiving process maps the file itself).

    Example:
        >>> import datetime as dt, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "ptp.bin"
        >>> _ = write_ptp_table(path, [
        ...     PairRow("G6002", "G6001", dt.date(2015, 1, 1), None, False, 0, "Exclusive"),
        ...     PairRow("77014", "77387", dt.date(2015, 1, 1), dt.date(2015, 1, 1), False, 9, "x")],
        ...     {})
        >>> table = PtpTable.open(path)
        >>> table.in_force("77014", "77387", dt.date(2015, 1, 1)) is None  # indicator 9
        True
        >>> [row.column1 for row in table.pairs_of("G6001", as_of=dt.date(2024, 1, 1))]
        ['G6002']
    """

    def __init__(self, path: Path) -> None:
        mapped = _Mapped(path, "ptp")
        self.path = path
        self.header = mapped.header
        self.rationales: tuple[str, ...] = tuple(mapped.header["rationales"])
        self._keys = mapped.section("keys")
        self._effective = mapped.section("effective")
        self._deletion = mapped.section("deletion")
        self._flags = mapped.section("flags")
        self._rationale = mapped.section("rationale")
        self._by_column1 = mapped.section("by_column1")
        count = mapped.header["rows"]
        if not all(len(column) == count for column in (
                self._keys, self._effective, self._deletion, self._flags, self._rationale,
                self._by_column1)):
            raise TableFileError(f"{path}: sections do not hold {count} rows each")
        self._mapped = mapped
        # (column2, column1) -> the pair's rows as (effective, deletion, indicator, row). Derived
        # data, bounded; two threads filling it store equal values.
        self._pairs: dict[tuple[str, str], tuple[tuple[int, int, int, int], ...]] = {}
        self._partners: dict[str, frozenset[str]] = {}

    @classmethod
    def open(cls, path: str | Path) -> PtpTable:
        return cls(Path(path))

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return (PtpTable, (self.path,))

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<PtpTable {self.path.name}: {len(self)} rows>"

    def rows(self, column1: str, column2: str) -> tuple[tuple[int, int, int, int], ...]:
        """The pair's rows as ``(effective, deletion, modifier indicator, row number)``, dates
        as ``YYYYMMDD`` integers; empty when the table has no such pair. Cached (the hot path)."""
        found = self._pairs.get((column2, column1))
        if found is None:
            found = self._rows(column1, column2)
            if len(self._pairs) >= _CACHE_LIMIT:
                self._pairs.clear()  # a workload of more distinct pairs than that: start over
            self._pairs[column2, column1] = found
        return found

    def _rows(self, column1: str, column2: str) -> tuple[tuple[int, int, int, int], ...]:
        try:
            key = code_number(column2) << _COLUMN1_BITS | code_number(column1)
        except ValueError:
            return ()
        if len(column1) != 5 or len(column2) != 5:
            return ()
        keys = self._keys
        start = bisect_left(keys, key)
        found = []
        row = start
        while row < len(keys) and keys[row] == key:
            found.append((self._effective[row], self._deletion[row], self._flags[row] & 0x0F, row))
            row += 1
        return tuple(found)

    def partners(self, column2: str) -> frozenset[str]:
        """The column-1 codes the table pairs with ``column2`` (any dates, any indicator):
        the engine's first, cheap question for a line (most lines have none billed that day).
        Cached per code, bounded."""
        found = self._partners.get(column2)
        if found is None:
            found = frozenset(number_code(row[0]) for row in self._column2_rows(column2))
            if len(self._partners) >= _PARTNER_LIMIT:
                self._partners.clear()
            self._partners[column2] = found
        return found

    def _column2_rows(self, column2: str) -> Iterator[tuple[int, int]]:
        """``(column-1 number, row)`` of every row with ``column2`` as column 2."""
        if len(column2) != 5:
            return
        try:
            number = code_number(column2)
        except ValueError:
            return
        keys = self._keys
        start = bisect_left(keys, number << _COLUMN1_BITS)
        end = bisect_left(keys, (number + 1) << _COLUMN1_BITS)
        for row in range(start, end):
            yield keys[row] & _COLUMN1_MASK, row

    def in_force(self, column1: str, column2: str, day: dt.date) -> PairRow | None:
        """The row of the pair in force on ``day`` (indicator 9 never is), else ``None``."""
        number = date_number(day)
        for effective, deletion, indicator, row in self.rows(column1, column2):
            if indicator != 9 and effective <= number <= deletion:
                return self.row(row)
        return None

    def row(self, row: int) -> PairRow:
        """Row number ``row`` as CMS wrote it."""
        key = self._keys[row]
        flags = self._flags[row]
        effective = _number_date(self._effective[row])
        assert effective is not None
        return PairRow(
            number_code(key & _COLUMN1_MASK), number_code(key >> _COLUMN1_BITS), effective,
            _number_date(self._deletion[row]), bool(flags & _PRE_1996), flags & 0x0F,
            self.rationales[self._rationale[row]],
        )

    def pairs_of(self, code: str, *, as_of: dt.date | None = None) -> list[PairRow]:
        """Every row where ``code`` is column 1 or column 2 (in force on ``as_of`` when given),
        column-2 rows first."""
        try:
            number = code_number(code)
        except ValueError:
            return []
        if len(code) != 5:
            return []
        keys = self._keys
        start = bisect_left(keys, number << _COLUMN1_BITS)
        end = bisect_left(keys, (number + 1) << _COLUMN1_BITS)
        found = [self.row(row) for row in range(start, end)]
        by_column1 = self._by_column1
        first = bisect_left(by_column1, number, key=lambda row: keys[row] & _COLUMN1_MASK)
        last = bisect_right(by_column1, number, key=lambda row: keys[row] & _COLUMN1_MASK)
        found += [self.row(by_column1[position]) for position in range(first, last)]
        if as_of is not None:
            found = [row for row in found if row.in_force(as_of)]
        return found

    def __iter__(self) -> Iterator[PairRow]:
        for row in range(len(self)):
            yield self.row(row)


class MueTable:
    """An MUE table file: the limit of a code. Small (about 15,000 codes): read into a dict.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "mue.bin"
        >>> _ = write_mue_table(path, [MueLimit("G6001", 2, 3, "Clinical: Data")], {})
        >>> MueTable.open(path).limit("G6001").units
        2
    """

    def __init__(self, path: Path) -> None:
        mapped = _Mapped(path, "mue")
        self.path = path
        self.header = mapped.header
        rationales = mapped.header["rationales"]
        codes, units = mapped.section("codes"), mapped.section("units")
        indicator, rationale = mapped.section("indicator"), mapped.section("rationale")
        self._limits = {
            number_code(codes[i]): MueLimit(
                number_code(codes[i]), units[i], indicator[i], rationales[rationale[i]])
            for i in range(len(codes))
        }

    @classmethod
    def open(cls, path: str | Path) -> MueTable:
        return cls(Path(path))

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return (MueTable, (self.path,))

    def __len__(self) -> int:
        return len(self._limits)

    def limit(self, code: str) -> MueLimit | None:
        return self._limits.get(code)

    def __iter__(self) -> Iterator[MueLimit]:
        return iter(self._limits.values())
