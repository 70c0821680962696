"""Read claims from files and streams: JSON, JSON Lines and CSV, one record at a time.

Every reader yields :class:`Record` items: the raw data of one claim with the place it came from
(file and record number), or a :class:`~claimedit.results.ClaimError` when the record could not
even be parsed. Nothing is dropped: a broken line of a JSON Lines file is an error record and the
next line is read as usual.

CSV holds one claim line per row; rows are grouped into claims by ``claim_id`` and the rows of a
claim must be contiguous. Columns (header names, any order, case-insensitive):

==================  ==========================================================================
``claim_id``        required
``payer``           required: medicare, medicaid or commercial (repeat it on every row)
``state``           optional two-letter state
``line_id``         optional
``code``            required: CPT/HCPCS code
``modifiers``       optional: modifiers separated by spaces, commas, ``;`` or ``:`` (``26``)
``modifier1..4``    optional alternative to ``modifiers``: one modifier per column
``date_of_service`` required: YYYY-MM-DD
``units``           optional, default 1
``charge``          optional: the line's billed charge (a decimal amount)
``claim_type``      optional: professional (default) or institutional
``patient_id``      optional: the patient (member) id, for claim history
``provider_id``     optional: the billing provider (NPI), for claim history
``frequency_code``  optional: 1 original (default), 7 replacement, 8 void
==================  ==========================================================================

Example:
    >>> records = list(read_records(['[{"claim_id": "A"}, {"claim_id": "B"}]'], "x.json"))
    >>> [(r.number, r.data["claim_id"]) for r in records]
    [(1, 'A'), (2, 'B')]
"""

from __future__ import annotations

import csv
import importlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from pydantic_core import from_json

from claimedit.claims import error_claim_id
from claimedit.limits import MAX_CLAIM_LINES, MAX_CSV_FIELD, MAX_ISSUES, MAX_RECORD_BYTES, quote
from claimedit.results import ClaimError, FieldIssue

if TYPE_CHECKING:
    from claimedit.adapters import PayerMap

__all__ = [
    "FORMATS", "HEAD_SIZE", "Record", "bounded_lines", "detect_format", "read_csv", "read_json",
    "read_jsonl", "read_records",
]


class Record(NamedTuple):
    """One input record: its source file, its 1-based number there, and its data or error."""

    source: str
    number: int
    data: Any | ClaimError
    notes: tuple[FieldIssue, ...] = ()
    """What the reader left out of the record and says so: a service line without a CPT/HCPCS
    code (an X12 revenue-code-only line, a FHIR drug item). The claim's other lines are decided;
    the command line carries the notes on the claim's result (:attr:`ClaimResult.notes
    <claimedit.results.ClaimResult.notes>`)."""


Reader = Callable[..., Iterator[Record]]


def _error(
    source: str, number: int, reason: str, claim_id: str | None = None, kind: str = "invalid",
    field: str = "",
) -> Record:
    issue = FieldIssue(field, reason, kind)
    return Record(source, number, ClaimError(source, number, claim_id, (issue,)))


def bounded_lines(stream: IO[bytes], limit: int = MAX_RECORD_BYTES) -> Iterator[bytes]:
    """The lines of a binary stream, none held longer than ``limit`` bytes.

    A longer line is yielded as its first ``limit + 1`` bytes, without its end of line, and the
    rest is skipped unread into memory: readers see it is too long (:func:`too_long`) and report
    it; the next line is read as usual.
    """
    readline = stream.readline
    while line := readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
        yield line


def too_long(line: str | bytes, limit: int = MAX_RECORD_BYTES) -> bool:
    """True when ``line`` is over ``limit`` (its end of line not counted)."""
    if len(line) <= limit:
        return False
    content = line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n")
    return len(content) > limit


def _size_message(what: str, limit: int) -> str:
    return f"{what} is longer than {limit:,} bytes, the limit: skipped unread"


def read_jsonl(lines: Iterable[str | bytes], source: str) -> Iterator[Record]:
    """One claim per line; blank lines are skipped, record numbers are line numbers.

    The data of a record is the line's JSON text: :func:`claimedit.parse_claim` parses and
    validates it in one pass (a line that is not JSON becomes an error record there). A line
    longer than :data:`~claimedit.limits.MAX_RECORD_BYTES` is an error record, not parsed.
    """
    for number, text in enumerate(lines, start=1):
        if number == 1:  # a byte-order mark (some Windows tools write one) is not JSON
            text = text.removeprefix(b"\xef\xbb\xbf") if isinstance(text, bytes) \
                else text.removeprefix("\ufeff")
        if len(text) > MAX_RECORD_BYTES and too_long(text):
            yield _error(source, number, _size_message("the line", MAX_RECORD_BYTES),
                         kind="record_too_large")
        elif text.strip():
            yield Record(source, number, text)


# The bytes that change the structure outside a string, and inside one.
_STRUCTURE = re.compile(rb'[\[\]{}",]')
_IN_STRING = re.compile(rb'["\\]')
# Everything up to the next bracket (inside an element), or bracket or comma (between elements),
# whole strings skipped: stops at a quote only when the data ends inside that string.
_SKIP_INSIDE = re.compile(rb'(?:[^"\[\]{}]+|"(?:[^"\\]|\\.)*")*', re.S)
_SKIP_BETWEEN = re.compile(rb'(?:[^"\[\]{},]+|"(?:[^"\\]|\\.)*")*', re.S)
_CHUNK = 1 << 16


def read_json(lines: Iterable[str | bytes], source: str) -> Iterator[Record]:
    """One JSON document: a claim, or a list of claims (record numbers are list positions).

    A list is streamed: one element is held at a time (memory stays flat however long the
    file), each element is parsed on its own, so a damaged element is one error record and the
    elements after it are read. Elements over :data:`~claimedit.limits.MAX_RECORD_BYTES` are
    skipped unread. A file that ends inside the list (a truncated file) says so in a last error.
    """
    chunks = (chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk
              for chunk in lines)
    head = b""
    for chunk in chunks:
        head += chunk
        if head.lstrip(b"\xef\xbb\xbf \t\r\n"):
            break
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not head:
        return  # an empty file: the caller says so
    if not head.startswith(b"["):
        yield _json_record(source, 1, _bounded_document(head, chunks))
        return
    scanned = _array_elements(itertools.chain((head[1:],), chunks))
    for number, element in enumerate(scanned, start=1):
        if isinstance(element, _Unclosed):
            if element.text.strip() or element.inside:
                yield _error(source, number, "the file ends inside this record: the list is not "
                             "closed (a truncated file?)", kind="json_truncated")
            else:
                yield _error(source, number, "the list is not closed: ']' is missing at the end "
                             "(a truncated file?)", kind="json_truncated")
            return
        yield _json_record(source, number, element)


def _json_record(source: str, number: int, element: bytes | int) -> Record:
    if isinstance(element, int):
        return _error(source, number, _size_message(f"the record ({element:,} bytes)",
                                                    MAX_RECORD_BYTES), kind="record_too_large")
    if not element.strip():
        return _error(source, number, "an empty item in the list (two commas, or a comma before "
                      "']')", kind="json_invalid")
    try:
        # pydantic-core's parser: depth and number limits of its own (json.loads would recurse
        # into a RecursionError on deep nesting); it also checks the UTF-8 of this element only.
        return Record(source, number, from_json(element))
    except ValueError as exc:
        return _error(source, number, f"not JSON: {exc}", kind="json_invalid")


def _bounded_document(head: bytes, chunks: Iterator[bytes]) -> bytes | int:
    """The whole document when within the limit, else its size (counted, not kept)."""
    parts, size = [head], len(head)
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RECORD_BYTES:
            parts = []
        else:
            parts.append(chunk)
    return b"".join(parts) if size <= MAX_RECORD_BYTES else size


class _Unclosed(NamedTuple):
    text: bytes
    inside: bool


def _array_elements(chunks: Iterator[bytes]) -> Iterator[bytes | int | _Unclosed]:
    """The elements of a JSON list whose ``[`` was already read: each element's bytes, or its
    size when over the limit, and an :class:`_Unclosed` last when the list does not end.

    Only brackets, and commas between elements, matter: one regular-expression match skips
    everything else, whole strings included, so the loop turns about once per bracket. A string
    the data cuts, and an element too large to hold (counted, not kept), are scanned token by
    token, so every byte is looked at a bounded number of times.
    """
    buf = bytearray()
    pos = start = dropped = depth = 0
    in_string = counting = False
    while True:
        more = False
        if in_string:
            found = _IN_STRING.search(buf, pos)
            if found is None or (found.end() >= len(buf) and buf[found.start()] == 0x5C):
                # The string goes on past the data (or a backslash's escaped byte is to come).
                pos, more = (len(buf) if found is None else found.start()), True
            else:
                pos = found.end() + (buf[found.start()] == 0x5C)  # a backslash skips a byte
                in_string = buf[found.start()] == 0x5C
                continue
        elif counting:
            found = _STRUCTURE.search(buf, pos)
            if found is None:
                pos, more = len(buf), True
            else:
                char, pos = buf[found.start()], found.end()
        else:
            skipped = (_SKIP_INSIDE if depth else _SKIP_BETWEEN).match(buf, pos)
            pos = skipped.end() if skipped else pos  # (it always matches, if only nothing)
            if pos >= len(buf):
                more = True
            else:
                char = buf[pos]
                pos += 1
        if more:
            chunk = next(chunks, None)
            if chunk is None:
                yield _Unclosed(bytes(buf[start:]) if not counting else b"x",
                                depth > 0 or in_string)
                return
            if not counting and len(buf) - start > MAX_RECORD_BYTES:
                counting = True  # too large to hold: count it, keep scanning, keep nothing
            if counting:
                dropped += pos - start
                del buf[:pos]
                pos = start = 0
            elif start:
                del buf[:start]
                pos, start = pos - start, 0
            buf += chunk
            continue
        if char == 0x22:  # " opens a string (the skip stops at one only when the data cuts it)
            in_string = True
        elif char in (0x7B, 0x5B):  # { [
            depth += 1
        elif depth > 0 and char in (0x7D, 0x5D):  # } ]
            depth -= 1
        elif depth == 0 and char in (0x2C, 0x5D):  # , or the list's own ]
            end = pos - 1
            if counting:
                yield dropped + end - start
                counting, dropped = False, 0
            elif char == 0x2C or buf[start:end].strip():
                yield bytes(buf[start:end])
            start = pos
            if char == 0x5D:
                return  # what follows the list is not read


_CLAIM_COLUMNS = (
    "claim_id", "payer", "state", "claim_type", "patient_id", "provider_id", "frequency_code"
)
_MODIFIER_SEPARATORS = re.compile(r"[\s,;:]+")
_LINE_COLUMNS = ("line_id", "code", "date_of_service", "units", "charge")
_UNITS = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²".isdigit() is True, int("²") fails
_REQUIRED = frozenset({"claim_id", "payer", "code", "date_of_service"})


class _Damage(NamedTuple):
    line: int
    reason: str
    kind: str


# After a CR that ends a line on its own (not the CR of CR LF).
_AFTER_BARE_CR = re.compile(r"(?<=\r)(?!\n)")
_AFTER_BARE_CR_BYTES = re.compile(rb"(?<=\r)(?!\n)")


def _bare_cr(line: str | bytes) -> bool:
    """Whether ``line`` holds a CR that ends a line on its own: the line ends of classic Mac
    files (Excel's "CSV (Macintosh)"), which the line reader, splitting at LF, sees as one line."""
    if isinstance(line, bytes):
        at, end = line.find(b"\r"), line.endswith(b"\n")
    else:
        at, end = line.find("\r"), line.endswith("\n")
    return at != -1 and (at != len(line) - 2 or not end)


def _physical_lines(
    lines: Iterable[str | bytes], damage: dict[int, _Damage],
) -> Iterator[str | bytes]:
    """``lines`` split at CRs that end a line on their own; numbering follows what is yielded.
    A line cut short by :func:`bounded_lines` loses its unfinished last part, and the rest of
    the file, which was not read, is reported at the number after its last whole line."""
    number = 0
    for line in lines:
        if not _bare_cr(line):
            number += 1
            yield line
            continue
        if isinstance(line, bytes):
            pieces: list[str | bytes] = [p for p in _AFTER_BARE_CR_BYTES.split(line) if p]
            cut = len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n")
        else:
            pieces = [p for p in _AFTER_BARE_CR.split(line) if p]
            cut = len(line) > MAX_RECORD_BYTES and not line.endswith("\n")
        last = pieces[-1]
        if cut and not (last.endswith(b"\r") if isinstance(last, bytes) else last.endswith("\r")):
            pieces.pop()
        for piece in pieces:
            number += 1
            yield piece
        if cut:
            number += 1
            damage[number] = _Damage(number, f"rows from row {number} on were not read: the "
                                     f"file's lines end in a CR alone and it is longer than "
                                     f"{MAX_RECORD_BYTES:,} bytes (convert its line ends to LF)",
                                     "row_too_long")
            yield "\n"


def _decoded(lines: Iterable[str | bytes], damage: dict[int, _Damage]) -> Iterator[str]:
    """CSV lines as text, one line at a time: a line that is not UTF-8, or too long, is noted
    in ``damage`` (by line number) and replaced, so the rows after it are read as usual. Lines
    ending in a CR alone are lines too."""
    for number, line in enumerate(_physical_lines(lines, damage), start=1):
        if number in damage:  # the unread rest of a file with CR line ends
            yield "\n"
            continue
        if len(line) > MAX_CSV_FIELD and too_long(line, MAX_CSV_FIELD):
            damage[number] = _Damage(number, f"row {number} is longer than {MAX_CSV_FIELD:,} "
                                     "characters, the limit: skipped", "row_too_long")
            yield "\n"
            continue
        if isinstance(line, bytes):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
                if line.startswith((b"\xff\xfe", b"\xfe\xff")):
                    damage[number] = _Damage(number, "the file is UTF-16 (it starts with a UTF-16 "
                                             "byte-order mark); CSV is read as UTF-8: convert it, "
                                             "e.g. iconv -f UTF-16 -t UTF-8", "invalid_utf8")
                    yield line.decode("utf-8", "replace")
                    continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                damage[number] = _Damage(number, f"row {number}: invalid UTF-8 at byte "
                                         f"{exc.start + 1} of the line", "invalid_utf8")
                text = line.decode("utf-8", "replace")
        else:
            text = line.removeprefix("\ufeff") if number == 1 else line
        yield text


def _damage_until(damage: dict[int, _Damage], line: int) -> list[_Damage]:
    return [damage.pop(number) for number in sorted(damage) if number <= line]


def _capped(issues: list[FieldIssue]) -> tuple[FieldIssue, ...]:
    if len(issues) <= MAX_ISSUES:
        return tuple(issues)
    more = len(issues) - MAX_ISSUES + 1
    return (*issues[: MAX_ISSUES - 1],
            FieldIssue("", f"and {more:,} more problems not listed", "too_many_issues"))


def read_csv(lines: Iterable[str | bytes], source: str) -> Iterator[Record]:
    """One claim line per row, grouped into claims by contiguous ``claim_id``.

    ``lines`` are text, or bytes decoded here one line at a time (UTF-8, a byte-order mark
    dropped): a row with a byte that is not UTF-8, an over-long row or a row the CSV module
    cannot read is reported and the rows after it are read as usual. A damaged row whose claim
    id can be read makes its claim an error (a claim is never decided without one of its rows).
    The record number of a claim is the file line of its first row.
    """
    damage: dict[int, _Damage] = {}
    rows = csv.reader(_decoded(lines, damage))
    try:
        header_row = next(rows, None)
        while header_row == []:
            header_row = next(rows, None)
    except csv.Error as exc:
        yield _error(source, rows.line_num, f"the CSV header: not CSV: {exc}", kind="csv_invalid")
        return
    if header_row is None:
        return
    header = [name.strip().lower() for name in header_row]
    if damage:
        first = damage.pop(min(damage))
        yield _error(source, first.line, f"the CSV header: {first.reason}", kind=first.kind)
        return
    missing = _REQUIRED - set(header)
    if missing:
        yield _error(source, 1, f"CSV header lacks column(s): {', '.join(sorted(missing))}",
                     kind="csv_header_missing")
        return
    columns = {name: index for index, name in enumerate(header) if name}  # the last one wins
    seen: set[str] = set()
    current: dict[str, Any] | None = None
    issues: list[FieldIssue] = []
    orphans: list[_Damage] = []  # damaged rows with no claim id, not yet placed
    skipping: str | None = None
    first_line = 0

    def finished() -> Record:
        assert current is not None
        if issues:
            error = ClaimError(source, first_line, error_claim_id(current["claim_id"]),
                               _capped(issues))
            return Record(source, first_line, error)
        return Record(source, first_line, current)

    def orphaned() -> Iterator[Record]:
        for item in orphans:
            yield _error(source, item.line, item.reason, kind=item.kind)
        orphans.clear()

    while True:
        before = rows.line_num
        try:
            cells = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            orphans.append(_Damage(before + 1, f"row {before + 1}: not CSV: {exc}", "csv_invalid"))
            continue
        line_number = before + 1
        hurt = _damage_until(damage, rows.line_num) if damage else []
        row = {name: cells[index].strip() for name, index in columns.items()
               if index < len(cells)}
        claim_id = row.get("claim_id", "")
        if hurt and (not claim_id or "\ufffd" in claim_id):
            orphans += hurt  # the row cannot say which claim it belongs to
            continue
        if not cells:
            continue  # a blank line
        if claim_id == skipping:
            continue
        if current is None or claim_id != current["claim_id"]:
            if current is not None:
                yield finished()
            yield from orphaned()  # between two claims: its own error
            current, issues, skipping = None, [], None
            if claim_id in seen:
                # Streaming keeps one claim in memory, so a claim must not be split; the part
                # already written stands, and this part is one error, not a second claim.
                yield _error(source, line_number, f"rows of claim {quote(claim_id)} are not "
                             "contiguous: sort the file by claim_id", error_claim_id(claim_id),
                             kind="csv_rows_not_contiguous")
                skipping = claim_id
                continue
            seen.add(claim_id)
            first_line = line_number
            # Payer and state are always passed (a missing payer is the claim's error); the
            # optional claim fields only when given, so the model's defaults apply.
            current = {key: row.get(key) or None for key in _CLAIM_COLUMNS
                       if key in ("payer", "state") or row.get(key)}
            current["claim_id"] = claim_id
            current["lines"] = []
        else:
            # A damaged row between two rows of this claim was one of its rows.
            issues += [FieldIssue("", item.reason, item.kind) for item in orphans]
            orphans.clear()
            # The claim's fields belong to the claim: every row must repeat the first row's.
            for key in _CLAIM_COLUMNS[1:]:
                value = row.get(key) or None
                if value is not None and value != current.get(key):
                    # A patient identifier is never repeated in a message.
                    said = "" if key == "patient_id" else \
                        f" ({quote(value)}, the first row {quote(current.get(key))})"
                    issues.append(FieldIssue(
                        f"lines.{len(current['lines'])}.{key}",
                        f"row {line_number} differs from the claim's first row{said}",
                        "csv_claim_field_conflict",
                    ))
        position = len(current["lines"])
        issues += [FieldIssue(f"lines.{position}", item.reason, item.kind) for item in hurt]
        if position >= MAX_CLAIM_LINES:
            if position == MAX_CLAIM_LINES:
                issues.append(FieldIssue("lines", f"the claim has more than {MAX_CLAIM_LINES:,} "
                                         "lines, the limit", "too_many_lines"))
                current["lines"].append(None)  # counted once; the rest are not kept
            continue
        line: dict[str, Any] = {key: row[key] for key in _LINE_COLUMNS if row.get(key)}
        modifiers = row.get("modifiers", "")
        if not modifiers:
            modifiers = " ".join(row.get(f"modifier{n}", "") for n in range(1, 5)).strip()
        if modifiers:
            line["modifiers"] = [part for part in _MODIFIER_SEPARATORS.split(modifiers) if part]
        if "units" in line and _UNITS.fullmatch(line["units"]):
            line["units"] = int(line["units"])
        current["lines"].append(line)
    if current is not None:
        yield finished()
    yield from orphaned()
    for item in damage.values():  # damage after the last row (a broken last line)
        yield _error(source, item.line, item.reason, kind=item.kind)


class _AdapterReader:
    """A reader from an optional adapter, imported on first use: the core works without the
    extras, and a file in a format whose extra is missing is an error record saying which
    extra to install, not a crash. It takes a payer map (how the format's payer information
    becomes a payer type)."""

    def __init__(self, module: str, reader: str) -> None:
        self.module = module
        self.reader = reader
        self.__doc__ = f"The reader :func:`claimedit.adapters.{module}.{reader}` (loaded lazily)."

    def __call__(
        self, lines: Iterable[str], source: str, payer_map: PayerMap | None = None
    ) -> Iterator[Record]:
        from claimedit.adapters import MissingExtraError

        try:
            adapter = importlib.import_module(f"claimedit.adapters.{self.module}")
        except MissingExtraError as exc:
            yield _error(source, 0, str(exc), kind="missing_extra")
            return
        options = {} if payer_map is None else adapter.reader_options(payer_map)
        yield from getattr(adapter, self.reader)(lines, source, **options)


def _adapter(module: str, reader: str) -> Reader:
    return _AdapterReader(module, reader)


FORMATS: dict[str, Reader] = {
    "json": read_json, "jsonl": read_jsonl, "csv": read_csv,
    "fhir": _adapter("fhir", "read_fhir"), "x12": _adapter("x12", "read_x12"),
}
"""Input format name -> reader. Adapters for other formats register here."""

_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


# FHIR JSON names its resource type near the top (FHIR asks for it first); the head read for
# detection is long enough to reach it in a pretty-printed document.
_FHIR = re.compile(r'"resourceType"\s*:\s*"(?:Claim|Bundle)"')
HEAD_SIZE = 4096
"""How much of a file :func:`detect_format` needs to see."""


def detect_format(name: str, head: str) -> str:
    r"""Guess a format from the content, else the file name, else the first characters.

    Content first: an X12 interchange starts with ``ISA``; FHIR JSON (a Claim, a Bundle, or
    NDJSON of them) names ``"resourceType": "Claim"`` or ``"Bundle"`` in its head; both may
    carry any file name (``.json``, ``.txt``, ``.edi``). Then the extension. Then ``[`` starts
    a JSON document; ``{`` a JSON document or JSON Lines (JSON Lines when the first line is a
    complete object); anything else is taken as CSV.

    Example:
        >>> detect_format("claim.json", '{\n  "resourceType": "Claim",\n')
        'fhir'
        >>> detect_format("batch.txt", "ISA*00*          *00*")
        'x12'
    """
    content = head.lstrip("\ufeff \t\r\n")
    if content.startswith("ISA"):
        return "x12"
    if content.startswith("{") and _FHIR.search(head):
        return "fhir"
    for extension, fmt in _EXTENSIONS.items():
        if name.lower().endswith(extension):
            return fmt
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first_line = stripped.split("\n", 1)[0]
        try:
            json.loads(first_line)
        except json.JSONDecodeError:
            return "json"
        return "jsonl"
    return "csv"


def read_records(
    lines: Iterable[str], source: str, fmt: str | None = None, payer_map: PayerMap | None = None
) -> Iterator[Record]:
    """Read every record from ``lines`` (an open text file, ``sys.stdin``, a list of lines).

    ``fmt`` is detected from ``source`` and the first lines (up to 4 KiB) when not given.
    Reading is lazy: one record is held at a time (a JSON document is the exception: it is
    parsed whole). ``payer_map`` tells the FHIR and X12 readers how to assign payer types.
    """
    iterator = iter(lines)
    if fmt is None:
        head: list[str] = []
        size = 0
        for text in iterator:
            head.append(text)
            size += len(text)
            if size >= HEAD_SIZE:
                break
        fmt = detect_format(source, "".join(head))
        iterator = itertools.chain(head, iterator)
    reader = FORMATS[fmt]
    if payer_map is not None and isinstance(reader, _AdapterReader):
        yield from reader(iterator, source, payer_map)
    else:
        yield from reader(iterator, source)
