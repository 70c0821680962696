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
from typing import TYPE_CHECKING, Any, NamedTuple

from claimedit.results import ClaimError, FieldIssue

if TYPE_CHECKING:
    from claimedit.adapters import PayerMap

__all__ = ["FORMATS", "HEAD_SIZE", "Record", "detect_format", "read_jsonl", "read_records"]


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


Reader = Callable[[Iterable[str], str], Iterator[Record]]


def _error(source: str, number: int, reason: str, claim_id: str | None = None) -> Record:
    return Record(source, number, ClaimError(source, number, claim_id, (FieldIssue("", reason),)))


def read_jsonl(lines: Iterable[str | bytes], source: str) -> Iterator[Record]:
    """One claim per line; blank lines are skipped, record numbers are line numbers.

    The data of a record is the line's JSON text: :func:`claimedit.parse_claim` parses and
    validates it in one pass (a line that is not JSON becomes an error record there).
    """
    for number, text in enumerate(lines, start=1):
        if number == 1:  # a byte-order mark (some Windows tools write one) is not JSON
            text = text.removeprefix(b"\xef\xbb\xbf") if isinstance(text, bytes) \
                else text.removeprefix("\ufeff")
        if text.strip():
            yield Record(source, number, text)


def read_json(lines: Iterable[str], source: str) -> Iterator[Record]:
    """One JSON document: a claim, or a list of claims (record numbers are list positions)."""
    try:
        document = json.loads("".join(lines))
    except json.JSONDecodeError as exc:
        yield _error(source, 1, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return
    if isinstance(document, list):
        for number, item in enumerate(document, start=1):
            yield Record(source, number, item)
    else:
        yield Record(source, 1, document)


_CLAIM_COLUMNS = (
    "claim_id", "payer", "state", "claim_type", "patient_id", "provider_id", "frequency_code"
)
_MODIFIER_SEPARATORS = re.compile(r"[\s,;:]+")
_LINE_COLUMNS = ("line_id", "code", "date_of_service", "units", "charge")


def read_csv(lines: Iterable[str], source: str) -> Iterator[Record]:
    """One claim line per row, grouped into claims by contiguous ``claim_id``.

    The record number of a claim is the file line of its first row.
    """
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        return
    header = {name: (name or "").strip().lower() for name in reader.fieldnames}
    missing = {"claim_id", "payer", "code", "date_of_service"} - set(header.values())
    if missing:
        yield _error(source, 1, f"CSV header lacks column(s): {', '.join(sorted(missing))}")
        return
    seen: set[str] = set()
    current: dict[str, Any] | None = None
    conflicts: list[FieldIssue] = []
    skipping: str | None = None
    first_line = 0

    def finished() -> Record:
        assert current is not None
        if conflicts:
            error = ClaimError(source, first_line, current["claim_id"], tuple(conflicts))
            return Record(source, first_line, error)
        return Record(source, first_line, current)

    for row in reader:
        row = {header[key]: (value or "").strip() for key, value in row.items() if key in header}
        line_number = reader.line_num
        claim_id = row.get("claim_id", "")
        if claim_id == skipping:
            continue
        if current is None or claim_id != current["claim_id"]:
            if current is not None:
                yield finished()
            current, conflicts, skipping = None, [], None
            if claim_id in seen:
                # Streaming keeps one claim in memory, so a claim must not be split; the part
                # already written stands, and this part is one error, not a second claim.
                yield _error(source, line_number, f"rows of claim {claim_id} are not contiguous: "
                             "sort the file by claim_id", claim_id)
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
            # The claim's fields belong to the claim: every row must repeat the first row's.
            for key in _CLAIM_COLUMNS[1:]:
                value = row.get(key) or None
                if value is not None and value != current.get(key):
                    conflicts.append(FieldIssue(
                        f"lines.{len(current['lines'])}.{key}",
                        f"row {line_number} says {value!r}, "
                        f"the claim's first row {current.get(key)!r}",
                    ))
        line: dict[str, Any] = {key: row[key] for key in _LINE_COLUMNS if row.get(key)}
        modifiers = row.get("modifiers", "")
        if not modifiers:
            modifiers = " ".join(row.get(f"modifier{n}", "") for n in range(1, 5)).strip()
        if modifiers:
            line["modifiers"] = [part for part in _MODIFIER_SEPARATORS.split(modifiers) if part]
        if "units" in line and line["units"].isdigit():
            line["units"] = int(line["units"])
        current["lines"].append(line)
    if current is not None:
        yield finished()


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
            yield _error(source, 0, str(exc))
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
