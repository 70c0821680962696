"""Synthetic NCCI tables in the exact layouts CMS publishes, for tests and the benchmark.

The rows are random (a fixed seed gives the same files), the layout is CMS's: PTP text files
with the notice line, the title line and the header wrapped over four lines, tab-delimited,
CRLF, Latin-1, split over several files by column-1 code range as CMS splits the practitioner
table, optionally zipped one file per archive with an Excel-named sibling the importer must
ignore; the MUE CSV with its quoted multi-line notice cell and two-line first header cell.
Rows a test needs are *planted* among the random ones. No CMS data is copied: codes are drawn
from made-up ranges, plus the few codes the planted rows and the benchmark name.

Example:
    >>> import datetime as dt, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> paths = write_ptp_files(out, rows=100, files=2, seed=1)
    >>> [path.name for path in paths]
    ['ccipra-v302r0-f1.txt', 'ccipra-v302r0-f2.txt']
    >>> paths[0].read_bytes().splitlines()[1]
    b'Column1/Column2 Edits\\t\\t\\t\\t\\t\\t'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from claimedit.ncci.table import MueLimit, PairRow

__all__ = ["PTP_HEADER", "mue_text", "ptp_text", "synthetic_codes", "synthetic_mue",
           "synthetic_pairs", "write_mue_file", "write_ptp_files"]

PTP_HEADER = (
    "Synthetic NCCI table for testing: not CMS data. Codes and rows are made up.\t\t\t\t\t\t",
    "Column1/Column2 Edits\t\t\t\t\t\t",
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
    "\t\t\t\t*=no data\t1=allowed\t",
    "\t\t\t\t\t9=not applicable\t",
)
# The kinds of rationale CMS gives (category names, not CMS text).
RATIONALES = (
    "Misuse of column two code with column one code",
    "Mutually exclusive procedures",
    "Standards of medical/surgical practice",
    "CPT Manual or CMS manual coding instruction",
    "More extensive procedure",
    "HCPCS/CPT procedure code definition",
    "CPT separate procedure definition",
    "Anesthesia service included in surgical procedure",
)
MUE_RATIONALES = ("Clinical: Data", "Nature of Service/Procedure", "Anatomic Consideration",
                  "Code Descriptor / CPT Instruction", "Clinical: CMS Workgroup")
MAI_TEXT = {1: "1 Line Edit", 2: "2 Date of Service Edit: Policy",
            3: "3 Date of Service Edit: Clinical"}
MUE_SETTING_LABEL = {"practitioner": "Practitioner", "outpatient-hospital": "Outpatient Hospital"}
_PREFIX = {"practitioner": "ccipra", "outpatient-hospital": "ccioph"}
# Codes the planted rows and the benchmark claims use (public code numbers, no CMS rows).
KNOWN_CODES = ("77014", "77371", "77372", "77373", "77385", "77386", "77387", "77401", "77402",
               "77407", "77412", "G6001", "G6002", "G6017", "99213", "99214", "36415", "80053",
               "77280", "77290", "77300", "77336")


def synthetic_codes(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct made-up codes (5-digit numbers and letter+4 digits), with
    :data:`KNOWN_CODES` first."""
    rng = random.Random(seed)
    codes = list(KNOWN_CODES)
    seen = set(codes)
    while len(codes) < count:
        if rng.random() < 0.8:
            code = f"{rng.randrange(10000, 99999):05d}"
        else:
            code = f"{rng.choice('ABCEGJKLPQ')}{rng.randrange(0, 9999):04d}"
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes[:count]


def synthetic_pairs(rows: int, *, codes: int = 15000, seed: int = 0,
                    planted: Sequence[PairRow] = ()) -> list[PairRow]:
    """About ``rows`` random PTP rows over ``codes`` codes, plus ``planted`` (kept as given,
    and their pairs not drawn at random). A tenth of the pairs have history: a deleted row
    and a later one."""
    rng = random.Random(seed)
    universe = synthetic_codes(codes, seed)
    taken = {(row.column1, row.column2) for row in planted}
    out = list(planted)
    start = dt.date(1996, 1, 1).toordinal()
    span = dt.date(2024, 6, 30).toordinal() - start
    while len(out) < rows:
        column1, column2 = rng.choice(universe), rng.choice(universe)
        if column1 == column2 or (column1, column2) in taken:
            continue
        taken.add((column1, column2))
        effective = dt.date.fromordinal(start + rng.randrange(span))
        indicator = rng.choice((0, 1, 1, 1))
        rationale = rng.choice(RATIONALES)
        pre = effective.year == 1996 and rng.random() < 0.5
        roll = rng.random()
        if roll < 0.1 and len(out) + 2 <= rows:
            # deleted, then put back with another indicator
            deleted = effective + dt.timedelta(days=rng.randrange(90, 2000))
            out.append(PairRow(column1, column2, effective, deleted, pre, indicator, rationale))
            out.append(PairRow(column1, column2, deleted + dt.timedelta(days=1), None, False,
                               1 - indicator, rationale))
        elif roll < 0.15:
            # never in force: deletion date = effective date, indicator 9
            out.append(PairRow(column1, column2, effective, effective, pre, 9, rationale))
        elif roll < 0.25:
            deleted = effective + dt.timedelta(days=rng.randrange(1, 3000))
            out.append(PairRow(column1, column2, effective, deleted, pre, indicator, rationale))
        else:
            out.append(PairRow(column1, column2, effective, None, pre, indicator, rationale))
    return out


def _ptp_line(row: PairRow) -> str:
    deletion = "*" if row.deletion is None else row.deletion.strftime("%Y%m%d")
    return (f"{row.column1}\t{row.column2}\t{'*' if row.pre_1996 else ''}\t"
            f"{row.effective.strftime('%Y%m%d')}\t{deletion}\t{row.modifier_indicator}\t"
            f"{row.rationale}")


def ptp_text(rows: Iterable[PairRow | str]) -> str:
    """A PTP file's text: the CMS preamble, then the rows (a ``str`` is written as it is, for
    tests of broken lines), CRLF line ends."""
    lines = [*PTP_HEADER, *(row if isinstance(row, str) else _ptp_line(row) for row in rows)]
    return "\r\n".join(lines) + "\r\n"


def write_ptp_files(
    out: Path, rows: int | Sequence[PairRow | str], *, files: int = 4, seed: int = 0,
    setting: str = "practitioner", version: str = "v302r0", zipped: bool = False,
    codes: int = 15000, planted: Sequence[PairRow] = (),
) -> list[Path]:
    """Write a PTP table as CMS does: sorted by column 1 and split over ``files`` files by
    column-1 range, named ``ccipra-<version>-f<n>.txt`` (``.zip`` with ``zipped``, each archive
    holding the text file and an Excel-named copy). ``rows``: a count of random rows (sorted),
    or the rows themselves (written in the order given)."""
    if isinstance(rows, int):
        pairs = synthetic_pairs(rows, codes=codes, seed=seed, planted=planted)
        pairs.sort(key=lambda row: (row.column1, row.column2, row.effective))
        table: list[PairRow | str] = list(pairs)
    else:
        table = list(rows)  # as given: a test places its broken lines
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    per_file = -(-len(table) // files) if table else 0
    for number in range(files):
        part = table[number * per_file:(number + 1) * per_file]
        stem = f"{_PREFIX[setting]}-{version}-f{number + 1}"
        data = ptp_text(part).encode("latin-1")
        if zipped:
            path = out / f"{stem}.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                archive.writestr(f"{stem}.TXT", data)
                archive.writestr(f"{stem}.xlsx", b"not read by the importer")
        else:
            path = out / f"{stem}.txt"
            path.write_bytes(data)
        paths.append(path)
    return paths


def synthetic_mue(count: int = 15000, *, seed: int = 0,
                  planted: Sequence[MueLimit] = ()) -> list[MueLimit]:
    """``count`` MUE rows over made-up codes (``planted`` first, their codes not drawn)."""
    rng = random.Random(seed + 1)
    taken = {limit.code for limit in planted}
    out = list(planted)
    for code in synthetic_codes(count + len(planted), seed):
        if len(out) >= count:
            break
        if code in taken:
            continue
        out.append(MueLimit(code, rng.choice((1, 1, 2, 2, 3, 4, 6, 10, 99)),
                            rng.choice((1, 2, 3, 3)), rng.choice(MUE_RATIONALES)))
    return out


def mue_text(limits: Iterable[MueLimit | Sequence[str]], setting: str = "practitioner") -> str:
    """An MUE CSV's text in the CMS layout (a sequence of strings is written as a raw row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Synthetic MUE table for testing: not CMS data.\nCodes and values are "
                     "made up.", "", "", ""])
    writer.writerow(["HCPCS/\nCPT Code", f"{MUE_SETTING_LABEL[setting]} Services MUE Values",
                     "MUE Adjudication Indicator", "MUE Rationale"])
    for limit in limits:
        if isinstance(limit, MueLimit):
            writer.writerow([limit.code, limit.units, MAI_TEXT[limit.adjudication_indicator],
                             limit.rationale])
        else:
            writer.writerow(list(limit))
    return buffer.getvalue()


def write_mue_file(out: Path, limits: int | Sequence[MueLimit | Sequence[str]], *,
                   seed: int = 0, setting: str = "practitioner", quarter: str = "2024-q3",
                   zipped: bool = False, planted: Sequence[MueLimit] = ()) -> Path:
    """Write an MUE table named as CMS names it
    (``medicare-ncci-<quarter>-<setting>-services-mue-table.csv``, or ``.zip``)."""
    rows = synthetic_mue(limits, seed=seed, planted=planted) if isinstance(limits, int) \
        else limits
    out.mkdir(parents=True, exist_ok=True)
    stem = f"medicare-ncci-{quarter}-{setting}-services-mue-table"
    data = mue_text(rows, setting).encode("latin-1")
    if zipped:
        path = out / f"{stem}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}.csv", data)
    else:
        path = out / f"{stem}.csv"
        path.write_bytes(data)
    return path
