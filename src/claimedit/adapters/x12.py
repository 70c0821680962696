"""X12 837 claims in (837P professional, 837I institutional, any 5010 version), 835-style
remittance adjustments out. No extra needed: the reader is claimedit's own; pyx12 (the ``x12``
extra) is only used by ``claimedit check --validate`` (:mod:`claimedit.adapters.x12_validate`).

The reader streams: it takes the delimiters from each ISA (several interchanges per file, CR/LF
or no line breaks, a byte-order mark, leading whitespace), reads its input in chunks and holds
one claim at a time. Segments are numbered from 1 at the file's first ISA, as pyx12 numbers them.

Reading, claim by claim (every 2300 loop is one record, numbered 1, 2, ... in the file):

=====================  =========================================================================
claimedit field        X12 source
=====================  =========================================================================
``claim_id``           2300 CLM01 (the patient control number)
``claim_type``         the transaction: ``005010X222*`` professional, ``005010X223*``
                       institutional (ST03, else GS08; A1, A2, A3 or no errata suffix)
``payer``              2000B SBR09 (claim filing indicator) via :data:`CLAIM_FILING_INDICATORS`
``state``              2010AA N402 (the billing provider's state)
``provider_id``        2010AA NM109 when NM108 is ``XX`` (the billing provider's NPI)
``patient_id``         2010BA NM109 (the subscriber's member id); when the patient is not the
                       subscriber (a 2000C loop), 2010CA NM109, else 2010CA REF*1W, else none
``frequency_code``     2300 CLM05-3
``line_id``            2400 LX01
``code``               837P SV101-2 / 837I SV202-2 (qualifier HC: CPT/HCPCS)
``modifiers``          SV101-3..6 / SV202-3..6
``units``              SV104 / SV205 (a whole number; default 1)
``charge``             SV102 / SV203
``date_of_service``    2400 DTP*472 (D8, or the first day of RD8), else the claim's statement
                       period, 2300 DTP*434 (837I), when it is one day
=====================  =========================================================================

A service line without a CPT/HCPCS code (an 837I revenue-code-only line, an SV101 qualified
``IV``, ``ER`` or ``WK``) is not evaluated: it is a note on the claim (:attr:`Record.notes
<claimedit.inputs.Record.notes>`), and the claim's other lines are decided.

What the reader checks, beyond what it reads: the envelope (SE01 segment counts, SE02/ST02,
GE01/GE02, IEA01/IEA02 against their headers, trailers present), segment ids, empty segments,
the HL hierarchy a claim hangs from, composites written without the component separator ISA16
declares, numbers (bounded: no exponent, at most 18 characters), dates. Damage inside a claim is
an issue on that claim, named by loop, element and segment number; a fault outside every claim
is an error record numbered 0; the rest of the file is still read. A claim cut off by the end of
the file (no SE after it) is an error. Messages never quote the elements that identify a patient
(NM1, N3, N4, DMG, REF and PER of the subscriber and patient loops): they name the segment.

Writing: :func:`remittance` gives a line's 835 service adjustments, CAS (group code, CARC,
amount) and LQ*HE (RARCs).

Example:
    >>> import claimedit
    >>> result = claimedit.load_engine().evaluate({"claim_id": "C1", "payer": "commercial",
    ...     "lines": [{"line_id": "1", "code": "77385", "date_of_service": "2025-03-04"},
    ...               {"line_id": "2", "code": "G6001", "modifiers": ["TC"],
    ...                "date_of_service": "2025-03-04"}]})
    >>> remittance(result.lines[1], charge=Decimal("100")).segments()
    ['CAS*CO*97*100~', 'LQ*HE*M15~']
"""

from __future__ import annotations

import codecs
import re
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import IO, Any, NamedTuple

from claimedit.adapters import PayerMap, relocated
from claimedit.claims import Claim, ClaimType, Payer, parse_claim
from claimedit.inputs import Record
from claimedit.results import ClaimError, ClaimResult, Decision, FieldIssue, LineResult

__all__ = [
    "CLAIM_FILING_INDICATORS",
    "Adjustment",
    "Remittance",
    "check_encoding",
    "read_x12",
    "read_x12_file",
    "remittance",
    "remittances",
]

CLAIM_FILING_INDICATORS: Mapping[str, Payer] = MappingProxyType({
    # X12 element 1032, claim filing indicator code (SBR09), 5010 code list.
    "MA": Payer.MEDICARE,    # Medicare Part A
    "MB": Payer.MEDICARE,    # Medicare Part B
    # HMO Medicare Risk: a Medicare Advantage plan, which must cover what Medicare covers and
    # follows CMS coding rules, so it is judged under the Medicare edits.
    "16": Payer.MEDICARE,
    "MC": Payer.MEDICAID,    # Medicaid
    # Every other payer is judged under the commercial edits.
    "11": Payer.COMMERCIAL,  # other non-federal programs
    "12": Payer.COMMERCIAL,  # preferred provider organization (PPO)
    "13": Payer.COMMERCIAL,  # point of service (POS)
    "14": Payer.COMMERCIAL,  # exclusive provider organization (EPO)
    "15": Payer.COMMERCIAL,  # indemnity insurance
    "17": Payer.COMMERCIAL,  # dental maintenance organization
    "AM": Payer.COMMERCIAL,  # automobile medical
    "BL": Payer.COMMERCIAL,  # Blue Cross / Blue Shield
    "CH": Payer.COMMERCIAL,  # CHAMPUS (TRICARE)
    "CI": Payer.COMMERCIAL,  # commercial insurance company
    "DS": Payer.COMMERCIAL,  # disability
    "FI": Payer.COMMERCIAL,  # Federal Employees Program
    "HM": Payer.COMMERCIAL,  # health maintenance organization (HMO)
    "LM": Payer.COMMERCIAL,  # liability medical
    "OF": Payer.COMMERCIAL,  # other federal program
    "TV": Payer.COMMERCIAL,  # Title V
    "VA": Payer.COMMERCIAL,  # Veterans Affairs plan
    "WC": Payer.COMMERCIAL,  # workers' compensation health claim
    "ZZ": Payer.COMMERCIAL,  # mutually defined
})
"""SBR09 claim filing indicator -> payer type. Pass your own mapping to :func:`read_x12` to
judge a filing indicator differently (say, ``16`` under the commercial edits)."""


def reader_options(payer_map: PayerMap) -> dict[str, Any]:
    """The keyword arguments of :func:`read_x12` for a payer map: its filing indicators over
    the defaults."""
    return {"filing_indicators": {**CLAIM_FILING_INDICATORS,
                                  **payer_map.x12_claim_filing_indicators}}


# --- reading: segments --------------------------------------------------------------------------

# FieldIssue.type slugs of the reader's findings (stable; the reasons are for people).
ENVELOPE = "x12_envelope"  # ISA/GS/ST and their trailers: counts, control numbers, missing ones
SEGMENT = "x12_segment"  # not a segment: empty, unterminated, an unknown id, not X12 at all
STRUCTURE = "x12_structure"  # loops out of order: HL hierarchy, a segment where none belongs
SEPARATOR = "x12_component_separator"  # a composite without the separator ISA16 declares
NUMBER = "x12_number"  # a quantity or amount that is not an X12 number
UNSUPPORTED = "x12_unsupported"  # not a 5010 837P/837I claim
CUT_OFF = "x12_cut_off"  # a claim the file (or its transaction) ends inside
ENCODING = "invalid_encoding"  # bytes that are not what the file declares

_BATCH = 256  # segments handed over at a time: few generator steps, a small young heap
CHUNK_SIZE = 1 << 20
"""Characters (or bytes) read at a time from a file object: memory stays flat whatever the size
of the file (X12 often comes as one line of many megabytes)."""

# Segment ids of the 5010 837P and 837I guides (and the envelope). Any other id inside a claim is
# damage: a corrupted id, a segment from another transaction, or text that is not X12.
_SEGMENT_IDS = frozenset((
    "ISA", "IEA", "GS", "GE", "ST", "SE", "BHT", "NM1", "N2", "N3", "N4", "PER", "HL", "PRV",
    "REF", "SBR", "PAT", "DMG", "CUR", "CLM", "DTP", "CL1", "PWK", "CN1", "AMT", "K3", "NTE",
    "CR1", "CR2", "CR3", "CR4", "CR5", "CR6", "CR7", "CR8", "CRC", "HI", "HCP", "LX", "SV1",
    "SV2", "SV5", "QTY", "MEA", "PS1", "LIN", "CTP", "SVD", "CAS", "OI", "MIA", "MOA", "LQ",
    "FRM", "TA1",
))
_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
# Where an interchange (or a group without its interchange) starts, in text to be skipped.
_START = re.compile(r"(?<![A-Za-z0-9])(?:ISA|GS)(?=[^A-Za-z0-9\s])")
# X12 numbers (types R and N): an optional minus, digits with at most one decimal point, at most
# 18 characters. No exponent: "1E1000000" would otherwise become a million-digit integer.
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
_MAX_NUMBER = 18
_DAY = re.compile(r"\d{8}")
_SHOWN = 20  # at most this many characters of a value are quoted in a message


_UNDECODED = "\ufffd"  # what bytes that do not decode as the file declares are read as
_UNDECODED_MESSAGE = (
    "the segment holds bytes that are not what the file declares: an X12 file is read as UTF-8 "
    "(plain ASCII is UTF-8), or as UTF-16 when it starts with a byte-order mark (convert it, "
    "e.g. iconv -f LATIN1 -t UTF-8)")


def _shown(value: str) -> str:
    """A value for a message, cut short: messages must not carry unbounded input."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


class _Fault(NamedTuple):
    """Damage the segment reader found: at ``segment`` (its number), why."""

    segment: int
    place: str
    message: str
    numbered: bool = True
    """Whether the fault took a segment number of its own (an empty segment does; a missing
    terminator is about the segment after it)."""
    kind: str = SEGMENT
    """The :attr:`FieldIssue.type <claimedit.results.FieldIssue.type>` of the issue it makes."""


class _Segments:
    """The segments of a stream of text chunks, in lists (a list per chunk read): each a
    ``(number, elements)`` tuple or a :class:`_Fault`. Delimiters come from each ISA;
    :attr:`component` is the current interchange's component separator."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self.number = 0
        self.component = ":"
        self.repetition = ""
        self.element = "*"
        self.interchanges = 0
        self.headless = False
        """The current interchange has no ISA: its delimiters are guesses."""

    def _more(self, buffer: str) -> tuple[str, bool]:
        chunk = next(self._chunks, None)
        if chunk is None:
            return buffer, False
        return buffer + chunk, True

    def __iter__(self) -> Iterator[list[tuple[int, list[str]] | _Fault]]:
        buffer = ""
        more = True
        while True:
            # --- looking for an ISA: the delimiters of the interchange -----------------------
            while True:
                # A byte-order mark, indentation, line breaks, NULs and Ctrl-Z (the DOS end of
                # file) are not part of any interchange.
                stripped = buffer.lstrip("\ufeff \t\r\n\x00\x1a")
                if len(stripped) < 256 and more:
                    buffer, more = self._more(buffer)
                    continue
                buffer = stripped
                break
            if not buffer:
                return
            if buffer.startswith("ISA"):
                parsed = self._isa(buffer)
                if parsed is not None:
                    elements, term, rest_at = parsed
                    self.interchanges += 1
                    self.headless = False
                    self.number += 1
                    yield [(self.number, elements)]
                    buffer, more = yield from self._interchange(buffer[rest_at:], term, more)
                    continue
                self.number += 1
                yield [_Fault(self.number, "ISA",
                              "an ISA segment whose delimiters cannot be read (16 elements, "
                              "then the component separator ISA16 and the segment terminator)")]
                buffer = buffer[3:]
                reported = True
            elif buffer[:2] in ("GS", "ST") and len(buffer) > 2 and not buffer[2].isalnum() \
                    and not buffer[2].isspace():
                # No ISA (or one that cannot be read): the delimiters are guessed from the GS
                # (or ST), so that every claim can still be named; none of them is decided.
                guessed = self._headless(buffer)
                if guessed is not None:
                    self.headless = True
                    self.interchanges += 1
                    yield [_Fault(self.number + 1, "ISA",
                                  "no readable ISA interchange header before this segment: the "
                                  "delimiters are guessed from the GS, the claims are named but "
                                  "not decided", False)]
                    self.element = buffer[2]
                    buffer, more = yield from self._interchange(buffer, guessed, more)
                    continue
                reported = False
            else:
                reported = False
            # Skip to the next ISA, or a GS that no readable ISA precedes.
            found = _START.search(buffer, 1)
            while found is None and more:
                # Keep the last characters: "ISA" may straddle two chunks.
                buffer, more = self._more(buffer[-3:])
                found = _START.search(buffer, 1)
            if not reported:
                self.number += 1
                where = "the start of the file" if not self.interchanges else "an IEA"
                yield [_Fault(self.number, "ISA",
                              f"text that is not an X12 interchange after {where}"
                              + ("" if found is not None else " up to the end of the file"))]
            if found is None:
                return
            buffer = buffer[found.start():]

    def _interchange(
        self, buffer: str, term: str, more: bool,
    ) -> Generator[list[tuple[int, list[str]] | _Fault], None, tuple[str, bool]]:
        """The segments of one interchange, up to its IEA (or a new ISA, or the end of the
        input), a list per chunk read (one generator step per chunk, not per segment: this is
        the hot loop); returns the unread text and whether more input may come."""
        element = self.element
        strip = "".join(c for c in "\ufeff \t\r\n" if c not in (element, term))
        number = self.number
        while True:
            damaged = _UNDECODED in buffer  # rare: then each segment is looked at
            parts = buffer.split(term)
            buffer = parts.pop()
            out: list[tuple[int, list[str]] | _Fault] = []
            append = out.append
            count = 0
            for position, part in enumerate(parts):
                segment = part.strip(strip)
                if not segment:
                    number += 1
                    append(_Fault(number, "", "an empty segment (two segment terminators in a "
                                              "row)"))
                    continue
                elements = segment.split(element)
                seg_id = elements[0]
                if seg_id[:3] == "ISA" and (len(seg_id) == 3 or not seg_id[3].isalnum()):
                    # A new interchange (its IEA lost, or none before it): its own delimiters
                    # may differ, so the rest is read again from its ISA.
                    self.number = number
                    yield out
                    return term.join([*parts[position:], buffer]), more
                number += 1
                if damaged and _UNDECODED in segment:
                    append(_Fault(number, "", _UNDECODED_MESSAGE, False, ENCODING))
                append((number, elements))
                if seg_id == "IEA":
                    self.number = number
                    yield out
                    return term.join([*parts[position + 1:], buffer]), more
                count += 1
                if count == _BATCH:
                    self.number = number
                    yield out
                    out = []
                    append = out.append
                    count = 0
            if not more:
                tail = buffer.strip(strip)
                if tail:
                    # The last segment has no terminator: read it, and say so.
                    number += 1
                    append(_Fault(number, "", "the file ends without a segment terminator "
                                              "after its last segment", False))
                    if _UNDECODED in tail:
                        append(_Fault(number, "", _UNDECODED_MESSAGE, False, ENCODING))
                    append((number, tail.split(element)))
                self.number = number
                yield out
                return "", False
            self.number = number
            if out:
                yield out
            buffer, more = self._more(buffer)

    def _headless(self, buffer: str) -> str | None:
        """The segment terminator after a GS (or ST) that no ISA precedes: the first character
        after its last element that is not a letter, digit or space; None when there is none."""
        element = buffer[2]
        count = 8 if buffer.startswith("GS") else 3
        at = 2
        for _ in range(count - 1):
            at = buffer.find(element, at + 1)
            if at == -1 or at > 200:
                return None
        at += 1
        while at < len(buffer) and (buffer[at].isalnum() or buffer[at] in " ."):
            at += 1
        if at >= len(buffer) or buffer[at] == element:
            return None
        return buffer[at]

    def _isa(self, buffer: str) -> tuple[list[str], str, int] | None:
        """The ISA's elements, the segment terminator and where the next segment starts; None
        when the ISA cannot be read. Sets the separators."""
        element = buffer[3] if len(buffer) > 3 else ""
        if not element or element.isalnum() or element.isspace():
            return None
        at = 3
        for _ in range(15):
            at = buffer.find(element, at + 1)
            if at == -1 or at > 200:
                return None
        # ISA16 is one character, then the segment terminator.
        if len(buffer) < at + 3:
            return None
        component, term = buffer[at + 1], buffer[at + 2]
        if len({element, component, term}) < 3 or component.isalnum() or term.isalnum():
            return None
        elements = buffer[:at + 2].split(element)
        self.element, self.component = element, component
        repetition = elements[11] if len(elements) > 11 else ""
        self.repetition = repetition if len(repetition) == 1 and not repetition.isalnum() else ""
        return elements, term, at + 3


def _text_chunks(
    lines: Iterable[str] | Iterable[bytes] | IO[str] | IO[bytes],
) -> Iterator[str]:
    """The input as text chunks: a file object is read in :data:`CHUNK_SIZE` pieces; bytes are
    decoded as the file declares (a UTF-8 or UTF-16 byte-order mark), else as UTF-8. Bytes that
    do not decode become U+FFFD, and the segment reader makes each segment holding one a fault:
    the claim it falls in is an error, the claims after it are read."""
    read = getattr(lines, "read", None)
    if read is not None:
        chunks: Iterable[Any] = _read_chunks(read)
    else:
        chunks = lines
    decoder = None
    decoder_name = "utf-8"
    for chunk in chunks:
        if isinstance(chunk, str):
            yield chunk
            continue
        if decoder is None:
            decoder_name = _declared_encoding(chunk)
            decoder = codecs.getincrementaldecoder(decoder_name)("replace")
        yield decoder.decode(chunk)
    if decoder is not None:
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def _read_chunks(read: Any) -> Iterator[Any]:
    """A file's ``read(CHUNK_SIZE)`` until it gives nothing (text or bytes alike)."""
    while chunk := read(CHUNK_SIZE):
        yield chunk


def _declared_encoding(head: bytes) -> str:
    """The encoding a file declares: a byte-order mark, or UTF-16 visible in ``ISA`` itself
    (``I\\0S\\0A\\0``); else UTF-8 (ASCII, X12's own character set, is UTF-8)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"I\x00S\x00A\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00I\x00S\x00A"):
        return "utf-16-be"
    return "utf-8"


def _encoding_message(offset: int, decoder: codecs.IncrementalDecoder) -> str:
    name = getattr(decoder, "encoding", None) or type(decoder).__module__.rsplit(".", 1)[-1]
    rest = "the file is not read"
    return (f"byte {offset} of the file is not {name.replace('_', '-')}: an X12 file is read as "
            "UTF-8 (plain ASCII is UTF-8), or as UTF-16 when it starts with a byte-order mark; "
            f"this file declares neither (convert it, e.g. iconv -f LATIN1 -t UTF-8); {rest}")


def check_encoding(handle: IO[bytes]) -> str | None:
    """Read a seekable binary file through to its end and back: the message of
    :func:`read_x12` when it does not decode as it declares, else None. Lets the command line
    refuse such a file whole rather than after its first claims.

    Example:
        >>> import io
        >>> check_encoding(io.BytesIO(b"ISA*00*caf\\xe9~")) is not None
        True
    """
    start = handle.tell()
    head = handle.read(CHUNK_SIZE)
    decoder = codecs.getincrementaldecoder(_declared_encoding(head))()
    offset = start
    try:
        chunk = head
        while chunk:
            decoder.decode(chunk)
            offset += len(chunk)
            chunk = handle.read(CHUNK_SIZE)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return _encoding_message(offset - start + exc.start, decoder)
    finally:
        handle.seek(start)
    return None


# --- reading: loops and claims ------------------------------------------------------------------

_PROFESSIONAL, _INSTITUTIONAL = "005010X222", "005010X223"
NOT_EVALUATED = "not_evaluated"
"""The ``type`` of a note on a line the reader left out (no CPT/HCPCS code to judge)."""
_HCPCS_QUALIFIER = "HC"  # X12 element 235: HCPCS codes, CPT included (Level I)


class _Line:
    __slots__ = ("dtp", "lx", "number", "position", "service")

    def __init__(self, lx: list[str] | None, number: int, position: int) -> None:
        self.lx = lx
        self.number = number  # the segment number of LX (or of the service segment)
        self.position = position  # 1-based, in the claim
        self.service: tuple[int, list[str]] | None = None
        self.dtp: tuple[int, list[str]] | None = None

    @property
    def place(self) -> str:
        return f"2400[{self.position}]"


class _Claim:
    """A 2300 loop being read: its CLM, the context above it, its lines and its issues."""

    __slots__ = (
        "claim_type",
        "clm",
        "filing",
        "issues",
        "lines",
        "number",
        "patient",
        "provider",
        "record",
        "state",
        "statement",
    )

    def __init__(self, record: int, number: int, clm: list[str], context: _Context) -> None:
        self.record = record
        self.number = number
        self.clm = clm
        self.claim_type = context.claim_type
        self.filing = context.filing
        self.state = context.state
        self.provider = context.provider
        self.patient = context.patient
        self.issues: list[FieldIssue] = []
        self.lines: list[_Line] = []
        self.statement: tuple[int, str] | None = None


class _Context:
    """What the loops above a claim say about it, as of the current segment."""

    __slots__ = ("claim_type", "damage", "filing", "hl_levels", "patient", "provider", "state",
                 "unsupported")

    def __init__(self) -> None:
        self.unsupported: str | None = None
        """Why the claims of this transaction cannot be read (not an 5010 837)."""
        self.claim_type: str | None = None
        self.state: tuple[str | None, str] = (None, "2010AA N402")
        self.provider: tuple[str | None, str] = (None, "2010AA NM109")
        self.filing: tuple[str | None, str] = (None, "2000B SBR09")
        self.patient: tuple[str | None, str] = (None, "2010BA NM109")
        self.hl_levels: dict[str, str] = {}
        """The latest HL id of each level (20, 22, 23): an 837's hierarchy is written in order,
        so a subscriber's parent is the latest billing provider, a patient's the latest
        subscriber. Three entries, whatever the size of the transaction."""
        self.damage: str | None = None
        """Set when the hierarchy above the next claims was damaged (a message)."""


def read_x12(
    lines: Iterable[str] | Iterable[bytes] | IO[str] | IO[bytes],
    source: str,
    *,
    filing_indicators: Mapping[str, Payer | str] = CLAIM_FILING_INDICATORS,
    findings: Mapping[int, Iterable[FieldIssue]] | None = None,
) -> Iterator[Record]:
    """Read an X12 837 file (one or more interchanges): one record per claim (2300 loop), and
    an error record numbered 0 for each fault outside every claim.

    ``lines`` is anything that gives the file's text or bytes in pieces: an open file (text or
    binary; read in chunks), lines, or chunks of any size. A valid claim's data is a
    :class:`~claimedit.Claim` (validated once, here); a claim that cannot be decided is a
    :class:`~claimedit.ClaimError` naming its CLM01. ``findings`` (segment number -> issues, e.g.
    from :func:`claimedit.adapters.x12_validate.validate_x12`) are attached to the claim whose
    segments they fall on, or reported as error records numbered 0.

    Example:
        >>> records = list(read_x12(["ISA*00*broken~"], "bad.837"))
        >>> records[0].number, records[0].data.issues[0].field
        (0, 'ISA (segment 1)')
    """
    segments = _Segments(_text_chunks(lines))
    reader = _Reader(source, filing_indicators, segments)
    if findings:
        reader.findings = {number: list(issues) for number, issues in findings.items()}
    yield from reader.read()


def read_x12_file(
    handle: IO[bytes], source: str, payer_map: PayerMap | None = None, *, validate: bool = False,
) -> Iterator[Record]:
    """Read an 837 from a binary file as ``claimedit check`` does: a seekable file that does not
    decode as it declares is refused whole (one error record) before any claim is read; with
    ``validate``, pyx12's findings (the ``x12`` extra) are attached to the claims.

    Example:
        >>> import io
        >>> [record] = read_x12_file(io.BytesIO(b"ISA*00*caf\\xe9~"), "latin.x12")
        >>> record.data.issues[0].reason[:30]
        'byte 10 of the file is not utf'
    """
    options = reader_options(payer_map) if payer_map is not None else {}
    seekable = _seekable(handle)
    if seekable:
        problem = check_encoding(handle)
        if problem is not None:
            issue = FieldIssue("", problem, ENCODING)
            yield Record(source, 0, ClaimError(source, 0, None, (issue,)))
            return
    if not validate:
        yield from read_x12(handle, source, **options)
        return
    # Imported here: the x12 extra (pyx12) is needed for --validate only.
    from claimedit.adapters.x12_validate import validate_x12

    if seekable:
        start = handle.tell()
        findings = validate_x12(handle)
        handle.seek(start)
        yield from read_x12(handle, source, findings=findings, **options)
        return
    # stdin: kept (in memory up to 64 MiB, then on disk) to be read twice.
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        shutil.copyfileobj(handle, spool)
        spool.seek(0)
        findings = validate_x12(spool)
        spool.seek(0)
        yield from read_x12(spool, source, findings=findings, **options)


def _seekable(handle: Any) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, ValueError, OSError):
        return False


class _Reader:
    """The loop over segments: envelope bookkeeping, context, one claim at a time."""

    def __init__(self, source: str, filing_indicators: Mapping[str, Payer | str],
                 segments: _Segments) -> None:
        self.source = source
        self.findings: dict[int, list[FieldIssue]] = {}  # a validator's, by segment number
        self.at_end = False
        self.current = 0  # the number of the last segment outside the service-line hot path
        self.filing_indicators = filing_indicators
        self.segments = segments
        self.record = 0
        self.claim: _Claim | None = None
        self.context = _Context()
        self.loop = ""  # the loop the last segment opened or belongs to
        # Envelope: [control number, segment number, count] of the open ISA, GS and ST.
        self.isa: list[Any] | None = None
        self.gs: list[Any] | None = None
        self.st: list[Any] | None = None
        self.outside = False  # segments outside a transaction have been reported
        self.st_skipped = 0  # faults (empty segments) since the ST: not counted in SE01
        self.version = ""  # GS08 of the open functional group

    def file_error(self, place: str, message: str, kind: str = ENVELOPE) -> Record:
        return Record(self.source, 0, ClaimError(self.source, 0, None,
                                                 (FieldIssue(place, message, kind),)))

    def read(self) -> Iterator[Record]:
        for batch in self.segments:
            yield from self._batch(batch)
        yield from self._end_of_file()

    def _batch(self, batch: list[tuple[int, list[str]] | _Fault]) -> Iterator[Record]:
        for item in batch:
            if item.__class__ is _Fault:
                assert isinstance(item, _Fault)
                self.st_skipped += item.numbered  # not a segment the sender counted in SE01
                place = f"{item.place} (segment {item.segment})".lstrip()
                if self.claim is not None:
                    self.claim.issues.append(FieldIssue(f"{self.loop} {place}", item.message,
                                                        item.kind))
                else:
                    yield self.file_error(place, item.message, item.kind)
                    if item.kind == ENCODING:  # a header loop the claims below it depend on
                        self._damage(f"segment {item.segment} holds bytes that do not decode")
                continue
            number, elements = item  # type: ignore[misc]  # a segment: not a _Fault
            seg_id = elements[0]
            claim = self.claim
            if seg_id in ("LX", "SV1", "SV2", "DTP") and claim is not None:
                # The hot path: service lines.
                if seg_id == "LX":
                    claim.lines.append(_Line(elements, number, len(claim.lines) + 1))
                    self.loop = "2400"
                elif seg_id == "DTP":
                    qualifier = elements[1] if len(elements) > 1 else ""
                    if self.loop == "2400" and qualifier == "472":
                        line = claim.lines[-1]
                        if line.dtp is not None:
                            claim.issues.append(FieldIssue(
                                f"{line.place} DTP*472 (segment {number})",
                                f"a second service date for the line (the first at segment "
                                f"{line.dtp[0]})", STRUCTURE))
                        else:
                            line.dtp = (number, elements)
                    elif self.loop == "2300" and qualifier == "434":
                        claim.statement = (number, elements[3] if len(elements) > 3 else "")
                else:
                    self._service(claim, number, seg_id, elements)
                continue
            self.current = number  # the segment that may close a claim (see _finish)
            if seg_id in ("ISA", "IEA", "GS", "GE", "ST", "SE"):
                yield from self._envelope(number, seg_id, elements)
                continue
            if seg_id not in _SEGMENT_IDS:
                place = f"segment {number}"
                why = (f"{_shown(seg_id)} is not a segment id of the 837" if _ID.fullmatch(seg_id)
                       else "the segment does not start with a segment id")
                if claim is not None:
                    claim.issues.append(FieldIssue(f"{self.loop} {place}", why, SEGMENT))
                else:
                    yield self.file_error(place, why, SEGMENT)
                    self._damage(f"segment {number} is damaged")
                continue
            if self.st is None and not self.outside:
                # Read on (the claims are named, not decided); said once per run of segments.
                self.outside = True
                yield self.file_error(f"{seg_id} (segment {number})",
                                      "segments outside any transaction (no ST before them)")
            if seg_id == "HL":
                yield from self._finish()
                self._hl(number, elements)
            elif seg_id == "CLM":
                yield from self._finish()
                self._clm(number, elements)
            elif claim is not None:
                self._in_claim(claim, number, seg_id, elements)
            else:
                self._header(number, seg_id, elements)

    # --- envelope ----------------------------------------------------------------------------

    def _envelope(self, number: int, seg_id: str, elements: list[str]) -> Iterator[Record]:
        def value(k: int) -> str:
            return elements[k].strip() if len(elements) > k else ""

        if seg_id == "ISA":
            yield from self._close_isa(number)
            self.isa = [value(13), number, 0]
        elif seg_id == "GS":
            if self.isa is None:
                yield self.file_error(f"GS (segment {number})", "a GS outside an interchange")
            yield from self._close_gs(number)
            self.gs = [value(6), number, 0]
            self.version = value(8)
            if self.isa is not None:
                self.isa[2] += 1
        elif seg_id == "ST":
            if self.gs is None:
                yield self.file_error(f"ST (segment {number})", "an ST outside a functional group")
            yield from self._close_st(number)
            self.st = [value(2), number, 0]
            self.st_skipped = 0
            self.outside = False
            if self.gs is not None:
                self.gs[2] += 1
            version = value(3) or self.version
            context = self.context = _Context()
            if value(1) != "837":
                context.unsupported = (f"transaction set {_shown(value(1))} (ST at segment "
                                       f"{number}) is not an 837 claim")
            elif version.startswith(_PROFESSIONAL):
                context.claim_type = ClaimType.PROFESSIONAL.value
            elif version.startswith(_INSTITUTIONAL):
                context.claim_type = ClaimType.INSTITUTIONAL.value
            else:
                shown = _shown(version) if version else "no version"
                context.unsupported = (f"{shown} (ST03/GS08) is not a 5010 837P (005010X222...) "
                                       "or 837I (005010X223...) transaction")
        elif seg_id == "SE":
            yield from self._finish()
            if self.st is None:
                yield self.file_error(f"SE (segment {number})", "an SE without an ST")
                return
            control, start, _ = self.st
            segments = number - start + 1 - self.st_skipped
            yield from self._trailer(number, "SE", (control, start, segments), value,
                                     "ST", "transaction", "segments")
            self.st = None
        elif seg_id == "GE":
            yield from self._close_st(number)
            if self.gs is None:
                yield self.file_error(f"GE (segment {number})", "a GE without a GS")
                return
            yield from self._trailer(number, "GE", self.gs, value, "GS", "group",
                                     "transactions")
            self.gs = None
        else:  # IEA
            yield from self._close_gs(number)
            if self.isa is None:
                yield self.file_error(f"IEA (segment {number})", "an IEA without an ISA")
                return
            yield from self._trailer(number, "IEA", self.isa, value, "ISA", "interchange",
                                     "functional groups")
            self.isa = None

    def _trailer(
        self, number: int, seg_id: str, opened: Sequence[Any], value: Callable[[int], str],
        opener: str, whole: str, units: str,
    ) -> Iterator[Record]:
        """An SE, GE or IEA against what it closes: element 1 counts the ``units`` of the
        ``whole`` opened at ``opened`` (control number, segment number, count), element 2
        repeats the opener's control number."""
        control, start, count = opened
        if value(1) != str(count):
            yield self.file_error(
                f"{seg_id}01 (segment {number})",
                f"{seg_id} count {_shown(value(1))} but the {whole} ({opener} at segment "
                f"{start}) has {count} {units}")
        if value(2) != control:
            yield self.file_error(
                f"{seg_id}02 (segment {number})",
                f"{seg_id} control number {_shown(value(2))} is not the {opener}'s "
                f"{_shown(control)} (segment {start})")

    def _close_st(self, number: int) -> Iterator[Record]:
        if self.st is not None:
            yield from self.cut(f"its transaction (ST at segment {self.st[1]}) has no SE: the "
                                f"claim may be cut off")
            yield self.file_error(f"SE (segment {number})",
                                  f"the transaction that starts at segment {self.st[1]} has no "
                                  "SE trailer before this segment")
            self.st = None

    def _close_gs(self, number: int) -> Iterator[Record]:
        yield from self._close_st(number)
        if self.gs is not None:
            yield self.file_error(f"GE (segment {number})",
                                  f"the functional group that starts at segment {self.gs[1]} has "
                                  "no GE trailer before this segment")
            self.gs = None

    def _close_isa(self, number: int) -> Iterator[Record]:
        yield from self._close_gs(number)
        if self.isa is not None:
            yield self.file_error(f"IEA (segment {number})",
                                  f"the interchange that starts at segment {self.isa[1]} has no "
                                  "IEA trailer before this segment")
            self.isa = None

    def _end_of_file(self) -> Iterator[Record]:
        end = self.segments.number
        self.at_end = True
        if self.st is not None:
            yield from self.cut(f"the file ends (segment {end}) inside its transaction (ST at "
                                f"segment {self.st[1]}, no SE): the claim may be cut off")
            yield self.file_error(f"SE (after segment {end})",
                                  f"the file ends inside the transaction that starts at segment "
                                  f"{self.st[1]}: no SE trailer")
            self.st = None
        if self.gs is not None:
            yield self.file_error(f"GE (after segment {end})",
                                  f"the file ends inside the functional group that starts at "
                                  f"segment {self.gs[1]}: no GE trailer")
            self.gs = None
        if self.isa is not None:
            yield self.file_error(f"IEA (after segment {end})",
                                  f"the file ends inside the interchange that starts at segment "
                                  f"{self.isa[1]}: no IEA trailer")
            self.isa = None
        if self.segments.interchanges == 0 and end == 0:
            yield self.file_error("ISA", "the file is empty: no X12 interchange")
        for number in sorted(self.findings):  # a validator's findings outside every claim
            for issue in self.findings[number]:
                yield self.file_error(issue.field, issue.reason)
        self.findings = {}

    def cut(self, why: str) -> Iterator[Record]:
        """The open claim as an error: it may be incomplete."""
        claim = self.claim
        if claim is not None:
            claim.issues.append(FieldIssue(f"2300 CLM (segment {claim.number})", why, CUT_OFF))
            yield from self._finish()

    # --- hierarchy and header loops -----------------------------------------------------------

    def _damage(self, why: str) -> None:
        if self.context.damage is None:
            self.context.damage = why

    def _hl(self, number: int, elements: list[str]) -> None:
        context = self.context
        hl_id = elements[1] if len(elements) > 1 else ""
        parent = elements[2] if len(elements) > 2 else ""
        level = elements[3] if len(elements) > 3 else ""
        expected_parent = {"20": None, "22": "20", "23": "22"}.get(level, "?")
        problem = None
        if expected_parent == "?":
            problem = f"HL03 level {_shown(level)} is not 20, 22 or 23"
        elif not hl_id or hl_id in context.hl_levels.values():
            problem = "HL01 is missing or repeats an earlier HL's id"
        elif expected_parent is not None and context.hl_levels.get(expected_parent) != parent:
            problem = f"HL02 does not name the level-{expected_parent} HL before it"
        if problem is not None:
            self.loop = "2000"
            context.damage = f"the HL at segment {number} is damaged: {problem}"
            return
        context.hl_levels[level] = hl_id
        if level == "20":  # a new billing provider: its subscribers and patients are to come
            context.hl_levels.pop("22", None)
            context.hl_levels.pop("23", None)
        elif level == "22":
            context.hl_levels.pop("23", None)
        if level == "20":
            self.loop = "2000A"
            context.damage = None
            context.state = (None, f"2010AA N402 (no N4 after segment {number})")
            context.provider = (None, f"2010AA NM109 (no NM1*85 after segment {number})")
            context.filing = (None, f"2000B SBR09 (no subscriber HL after segment {number})")
            context.patient = (None, f"2010BA NM109 (no subscriber HL after segment {number})")
        elif level == "22":
            self.loop = "2000B"
            context.damage = None
            context.filing = (None, f"2000B SBR09 (no SBR after segment {number})")
            context.patient = (None, f"2010BA NM109 (no NM1*IL after segment {number})")
        else:
            self.loop = "2000C"
            # A patient who is not the subscriber: the subscriber's member id is not theirs.
            context.patient = (None, f"2010CA NM109 (no patient id after segment {number})")

    def _header(self, number: int, seg_id: str, elements: list[str]) -> None:
        """A segment of the header loops (1000A/B, 2000A-2010CA)."""
        context = self.context
        loop = self.loop
        if seg_id == "NM1":
            entity = elements[1] if len(elements) > 1 else ""
            if entity == "85":
                self.loop = "2010AA"
                if len(elements) > 9 and elements[8] == "XX" and elements[9]:
                    context.provider = (elements[9], f"2010AA NM109 (segment {number})")
            elif entity == "IL":
                self.loop = "2010BA"
                if len(elements) > 9 and elements[9]:
                    context.patient = (elements[9], f"2010BA NM109 (segment {number})")
            elif entity == "QC":
                self.loop = "2010CA"
                if len(elements) > 9 and elements[9]:
                    context.patient = (elements[9], f"2010CA NM109 (segment {number})")
            elif loop.startswith("2000A") or loop.startswith("2010A"):
                self.loop = "2010AB"  # pay-to address, pay-to plan
            elif loop.startswith("2000B") or loop.startswith("2010B"):
                self.loop = "2010BB"  # payer
            elif loop == "":
                self.loop = "1000"  # submitter, receiver
        elif seg_id == "N4" and loop == "2010AA":
            state = elements[2] if len(elements) > 2 else ""
            context.state = (state or None, f"2010AA N402 (segment {number})")
        elif seg_id == "SBR" and loop == "2000B":
            filing = elements[9] if len(elements) > 9 else ""
            context.filing = (filing or None, f"2000B SBR09 (segment {number})")
        elif seg_id == "REF" and loop == "2010CA" and context.patient[0] is None:
            if len(elements) > 2 and elements[1] == "1W" and elements[2]:
                context.patient = (elements[2], f"2010CA REF02 (segment {number})")
        elif seg_id in ("SV1", "SV2", "LX"):
            pass  # handled by the caller (never reached outside a claim)

    def _clm(self, number: int, elements: list[str]) -> None:
        self.record += 1
        claim = _Claim(self.record, number, elements, self.context)
        self.claim = claim
        self.loop = "2300"
        context = self.context
        problem = context.unsupported or context.damage
        if self.segments.headless:
            problem = "the interchange has no readable ISA header: its delimiters are guesses"
        elif self.st is None:
            problem = "the claim is outside any transaction (no ST before it)"
        if problem is None and "22" not in context.hl_levels:
            problem = "the claim has no subscriber loop (HL level 22) above it"
        if problem is not None:
            kind = UNSUPPORTED if problem == context.unsupported else STRUCTURE
            claim.issues.append(FieldIssue(f"2300 CLM (segment {number})",
                                           f"not read: {problem}", kind))

    def _in_claim(self, claim: _Claim, number: int, seg_id: str, elements: list[str]) -> None:
        """A segment inside a claim other than LX, SV1, SV2 and DTP."""
        loop = self.loop
        if seg_id == "NM1":
            entity = elements[1] if len(elements) > 1 else ""
            if entity in _ENTITY_LOOPS and loop.startswith("24"):
                claim.issues.append(FieldIssue(
                    f"{loop} NM1 (segment {number})",
                    f"an NM1*{entity} (a {_ENTITY_LOOPS[entity]} loop) inside the claim's "
                    "service lines: a header loop may be missing its HL", STRUCTURE))
                self._damage(f"segment {number} is out of place")
            if loop.startswith("24"):
                self.loop = "2420"  # line providers and facilities
            elif loop in ("2320", "2330"):
                self.loop = "2330"  # the other subscriber's payer and people
            else:
                self.loop = "2310"  # claim-level providers and facility
        elif seg_id == "SBR":
            if loop.startswith("24"):
                claim.issues.append(FieldIssue(
                    f"{loop} SBR (segment {number})",
                    "an SBR inside the claim's service lines: the next subscriber's HL may be "
                    "missing", STRUCTURE))
                self._damage(f"segment {number} is out of place")
            self.loop = "2320"
        elif seg_id in ("SVD", "LIN") and loop.startswith("24"):
            self.loop = "2430" if seg_id == "SVD" else "2410"
        elif seg_id in ("PAT", "DMG", "BHT") and loop.startswith("24"):
            # Segments of the header loops: a subscriber or patient HL may have been lost.
            claim.issues.append(FieldIssue(f"{loop} {seg_id} (segment {number})",
                                           f"a {seg_id} segment inside the claim", STRUCTURE))
            self._damage(f"segment {number} is out of place")

    def _service(self, claim: _Claim, number: int, seg_id: str, elements: list[str]) -> None:
        if not self.loop.startswith("24") or not claim.lines:
            # A service line without its LX: read it as a line of its own, and say so.
            line = _Line(None, number, len(claim.lines) + 1)
            claim.lines.append(line)
            claim.issues.append(FieldIssue(f"{line.place} {seg_id} (segment {number})",
                                           "a service line without its LX segment", STRUCTURE))
            self.loop = "2400"
        line = claim.lines[-1]
        if line.service is not None:
            claim.issues.append(FieldIssue(
                f"{line.place} {seg_id} (segment {number})",
                f"a second service line segment in one 2400 loop (the first at segment "
                f"{line.service[0]})", STRUCTURE))
            return
        line.service = (number, elements)
        self.loop = "2400"

    # --- a claim, finished ----------------------------------------------------------------------

    def _finish(self) -> Iterator[Record]:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        self.loop = "2000"
        if self.findings:
            # A validator's findings on the claim's segments (up to the one that closed it).
            last = self.segments.number if self.at_end else self.current - 1
            for number in range(claim.number, last + 1):
                claim.issues.extend(self.findings.pop(number, ()))
        try:
            data, notes = self._build(claim)
        except Exception as exc:  # a reader bug must not stop the file: this claim says so
            issue = FieldIssue(f"2300 CLM (segment {claim.number})",
                               f"internal error reading the claim ({type(exc).__name__})",
                               "internal_error")
            data, notes = ClaimError(self.source, claim.record, _clm01(claim), (issue,)), ()
        yield Record(self.source, claim.record, data, notes)

    def _build(self, claim: _Claim) -> tuple[Claim | ClaimError, tuple[FieldIssue, ...]]:
        number = claim.number
        clm = claim.clm
        issues = claim.issues
        notes: list[FieldIssue] = []
        claim_id = _clm01(claim)
        if claim_id is None:
            issues.append(FieldIssue(f"2300 CLM01 (segment {number})",
                                     "no patient control number", "missing"))
        if claim.claim_type is None:  # the issue that says why is already there
            return ClaimError(self.source, claim.record, claim_id, tuple(issues)), ()
        data: dict[str, Any] = {"claim_id": claim_id, "claim_type": claim.claim_type}

        filing, filing_place = claim.filing
        if filing is None:
            issues.append(FieldIssue(filing_place, "no claim filing indicator", "missing"))
        elif filing not in self.filing_indicators:
            issues.append(FieldIssue(filing_place, f"claim filing indicator {_shown(filing)} "
                                                   "is not mapped to a payer type",
                                     "payer_not_mapped"))
        else:
            data["payer"] = self.filing_indicators[filing]
        data["state"] = claim.state[0]
        if claim.provider[0] is not None:
            data["provider_id"] = claim.provider[0]
        if claim.patient[0] is not None:
            data["patient_id"] = claim.patient[0]

        component = self.segments.component
        if len(clm) > 5 and clm[5]:
            facility = clm[5].split(component)
            if len(facility) == 1 and len(clm[5]) > 2:
                issues.append(_separator_issue(f"2300 CLM05 (segment {number})", clm[5],
                                               component))
            elif len(facility) > 2 and facility[2]:
                data["frequency_code"] = facility[2]

        # The statement period stands for a line's date only when it is one day: a line of a
        # longer period without its own DTP*472 could be on any of its days, and same-day edits
        # judged on the first day would bundle or allow the wrong lines.
        statement = _one_day(claim.statement[1]) if claim.statement is not None else None

        lines: list[dict[str, Any]] = []
        read: list[_Line] = []
        for line in claim.lines:
            values = self._line(line, component, statement, issues, notes)
            if values is not None:
                lines.append(values)
                read.append(line)
        if not lines and not issues:
            issues.append(FieldIssue(f"2300 CLM (segment {number})",
                                     "no service line with a CPT/HCPCS code", "missing"))
            issues += notes
        if issues:
            return ClaimError(self.source, claim.record, claim_id, tuple(issues)), tuple(notes)
        data["lines"] = lines
        parsed = parse_claim(data, source=self.source, record=claim.record)
        if isinstance(parsed, ClaimError):
            # Only now are the places worked out: the fields' names in the 837.
            parsed = relocated(parsed, _places(claim, read))
        return parsed, tuple(notes)

    def _line(
        self, line: _Line, component: str, statement: str | None,
        issues: list[FieldIssue], notes: list[FieldIssue],
    ) -> dict[str, Any] | None:
        # The line's X12 places are only worked out for a fault (here, or in _places).
        if line.service is None:
            issues.append(FieldIssue(f"{line.place} (segment {line.number})",
                                     "no SV1 or SV2 service line after the LX", STRUCTURE))
            return None
        n, sv = line.service
        professional = sv[0] == "SV1"
        name = "SV101" if professional else "SV202"
        composite = (sv[1] if professional else sv[2]) if len(sv) > (1 if professional else 2) \
            else ""
        parts = composite.split(component)
        qualifier = parts[0]
        if not composite:
            if not professional:
                # A revenue-code-only institutional line (room and board, supplies): no CPT/HCPCS
                # code to judge.
                revenue = sv[1] if len(sv) > 1 else ""
                notes.append(FieldIssue(f"{line.place} SV202 (segment {n})",
                                        f"revenue code {_shown(revenue)} without a HCPCS code: "
                                        "the line is not evaluated", NOT_EVALUATED))
                return None
            at = line.place
            issues.append(FieldIssue(f"{at} SV101 (segment {n})", "no procedure code", "missing"))
            return None
        if len(parts) == 1:
            at = line.place
            issues.append(_separator_issue(f"{at} {name} (segment {n})", composite, component))
            return None
        if qualifier != _HCPCS_QUALIFIER:
            if len(qualifier) != 2 or not qualifier.isalnum():
                # A qualifier is two characters (HC, IV, ER, WK): "HC77387" lost its separator.
                issues.append(FieldIssue(f"{line.place} {name}-1 (segment {n})",
                                         f"{_shown(qualifier)} is not a product/service id "
                                         f"qualifier: a component separator ({component!r}) is "
                                         "missing after it", SEPARATOR))
            else:
                notes.append(FieldIssue(f"{line.place} {name}-1 (segment {n})",
                                        f"procedure code qualifier {_shown(qualifier)}: not a "
                                        "CPT/HCPCS code (HC), the line is not evaluated",
                                        NOT_EVALUATED))
            return None
        values: dict[str, Any] = {"code": parts[1]}
        if line.lx is not None:
            values["line_id"] = line.lx[1] if len(line.lx) > 1 else None
        if len(parts) > 2:
            modifiers = [m for m in parts[2:6] if m]
            if modifiers:
                values["modifiers"] = modifiers
            if len(parts) > 7:
                issues.append(FieldIssue(f"{line.place} {name} (segment {n})",
                                         f"{len(parts)} components: a procedure composite has "
                                         "at most 7", STRUCTURE))
        charge_at, units_at = (2, 4) if professional else (3, 5)
        units = sv[units_at] if len(sv) > units_at else ""
        if units:
            if units.isdigit() and len(units) < 10:
                values["units"] = int(units)
            else:
                quantity = _number(units)
                if quantity is None:
                    at = line.place
                    issues.append(FieldIssue(f"{at} {_element(sv[0], units_at)} (segment {n})",
                                             f"{_shown(units)} is not a number", NUMBER))
                    return None
                values["units"] = int(quantity) if quantity == quantity.to_integral_value() \
                    else quantity
        charge = sv[charge_at] if len(sv) > charge_at else ""
        if charge:
            if not charge.isdigit() and _number(charge) is None:
                issues.append(FieldIssue(f"{line.place} {_element(sv[0], charge_at)} (segment {n})",
                                         f"{_shown(charge)} is not an amount", NUMBER))
                return None
            values["charge"] = charge
        if line.dtp is not None:
            dtp = line.dtp[1]
            values["date_of_service"] = _date(dtp[3] if len(dtp) > 3 else "")
        elif statement:
            values["date_of_service"] = statement
        else:
            why = "no statement period (2300 DTP*434) to fall back on" if statement is None \
                else "the statement period (2300 DTP*434) covers several days: which is the line's?"
            issues.append(FieldIssue(f"{line.place} DTP*472 (segment {n})",
                                     f"no service date (DTP*472) and {why}", "missing"))
            return None
        return values


def _element(seg_id: str, position: int) -> str:
    return f"{seg_id}{position:02d}"


def _places(claim: _Claim, lines: list[_Line]) -> dict[str, str]:
    """claimedit field path -> place in the 837, for naming the faults of a claim (its lines:
    those read into the claim, in order)."""
    number = claim.number
    places = {"claim_id": f"2300 CLM01 (segment {number})", "payer": claim.filing[1],
              "state": claim.state[1], "provider_id": claim.provider[1],
              "patient_id": claim.patient[1],
              "frequency_code": f"2300 CLM05-3 (segment {number})",
              "claim_type": "ST03 (the transaction's version)"}
    statement_place = "2300 DTP*434" if claim.statement is None \
        else f"2300 DTP03 (segment {claim.statement[0]})"
    for k, line in enumerate(lines):
        assert line.service is not None  # lines without one are not read into the claim
        n, sv = line.service
        seg_id, at = sv[0], line.place
        name = "SV101" if seg_id == "SV1" else "SV202"
        charge_at, units_at = (2, 4) if seg_id == "SV1" else (3, 5)
        prefix = f"lines.{k}"
        places[prefix] = f"{at} (segment {n})"
        places[f"{prefix}.code"] = f"{at} {name}-2 (segment {n})"
        places[f"{prefix}.modifiers"] = f"{at} {name}-3..6 (segment {n})"
        places[f"{prefix}.units"] = f"{at} {_element(seg_id, units_at)} (segment {n})"
        places[f"{prefix}.charge"] = f"{at} {_element(seg_id, charge_at)} (segment {n})"
        places[f"{prefix}.date_of_service"] = statement_place if line.dtp is None \
            else f"{at} DTP03 (segment {line.dtp[0]})"
        if line.lx is not None:
            places[f"{prefix}.line_id"] = f"{at} LX01 (segment {line.number})"
    return places


_ENTITY_LOOPS = {"85": "billing provider", "IL": "subscriber", "QC": "patient", "PR": "payer"}


def _clm01(claim: _Claim) -> str | None:
    clm01 = claim.clm[1].strip() if len(claim.clm) > 1 else ""
    return clm01 or None


def _separator_issue(place: str, value: str, component: str) -> FieldIssue:
    used = next((c for c in value if not c.isalnum() and c != " "), None)
    if used is not None:
        why = f"components separated by {used!r} where ISA16 declares {component!r}"
    else:
        why = f"no component separator ({component!r}, ISA16) between the qualifier and the code"
    return FieldIssue(place, f"{_shown(value)}: {why}", SEPARATOR)


def _number(text: str) -> Decimal | None:
    """An X12 number (R or N) as a Decimal; None when it is not one (exponent, letters, more
    than 18 characters)."""
    text = text.strip()
    if len(text) > _MAX_NUMBER or not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def _one_day(value: str) -> str:
    """The day of a statement period (DTP*434) as ISO when it is one day (D8, or RD8 with the
    same first and last day); "" when it spans several days; else as :func:`_date` gives it."""
    first, dash, last = value.partition("-")
    if dash and _DAY.fullmatch(first) and _DAY.fullmatch(last) and first != last:
        return ""
    return _date(value)


def _date(value: str) -> str:
    """D8 ``CCYYMMDD`` or the first day of RD8 ``CCYYMMDD-CCYYMMDD``, as ISO; else as sent,
    cut short (the claim model then says what is wrong with it)."""
    if len(value) == 8 and value.isdigit():  # D8, the common case
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    first = value.split("-", 1)[0]
    if _DAY.fullmatch(first):
        return f"{first[:4]}-{first[4:6]}-{first[6:]}"
    return value[:_SHOWN]


# --- remittance -------------------------------------------------------------------------------


class Adjustment(NamedTuple):
    """One 835 claim adjustment: CAS group code, reason code and amount."""

    group_code: str
    """CO, PR or OA (CAS01)."""
    carc: str
    """The claim adjustment reason code (CAS02, 05, ...)."""
    amount: Decimal | None
    """The adjusted amount (CAS03, 06, ...), None when the line charge was not given."""


class Remittance(NamedTuple):
    """A line's remittance data in the shape of an 835 service line (loop 2110): the
    adjustments (CAS) and remark codes (LQ*HE), with the decision they stand for."""

    line_id: str | None
    code: str
    decision: Decision
    adjustments: tuple[Adjustment, ...]
    rarcs: tuple[str, ...]
    """Remark codes of every reason, without repeats, in order."""
    rule_ids: tuple[str, ...]

    def segments(self, *, element: str = "*", terminator: str = "~") -> list[str]:
        """The CAS and LQ segments: one CAS per group code (up to six reasons each, as X12
        allows), then one LQ*HE per remark code. A missing amount is written as 0.

        Example:
            >>> Remittance("1", "77387", Decision.DENY,
            ...     (Adjustment("CO", "96", None), Adjustment("CO", "4", None)), ("N56",),
            ...     ("IGRT-MEDICARE-77387", "IGRT-PC-CODED-WITH-GCODES")).segments()
            ['CAS*CO*96*0**4*0~', 'LQ*HE*N56~']
        """
        segments = []
        groups: dict[str, list[Adjustment]] = {}
        for adjustment in self.adjustments:
            groups.setdefault(adjustment.group_code, []).append(adjustment)
        for group, adjustments in groups.items():
            for start in range(0, len(adjustments), 6):
                parts = [group]
                for adjustment in adjustments[start:start + 6]:
                    # reason, amount, quantity (empty) per triplet; the last quantity is dropped.
                    parts += [adjustment.carc, _amount(adjustment.amount), ""]
                segments.append("CAS" + element + element.join(parts[:-1]) + terminator)
        segments += [f"LQ{element}HE{element}{rarc}{terminator}" for rarc in self.rarcs]
        return segments

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id, "code": self.code, "decision": self.decision.value,
            "adjustments": [{"group_code": a.group_code, "carc": a.carc,
                             "amount": None if a.amount is None else str(a.amount)}
                            for a in self.adjustments],
            "rarcs": list(self.rarcs), "rule_ids": list(self.rule_ids),
        }


def _amount(amount: Decimal | None) -> str:
    if amount is None:
        return "0"
    # X12 decimals carry no trailing zeros or exponent: 100, 12.5.
    text = format(amount.normalize(), "f")
    return text


def _line_charge(charge: object) -> Decimal | None:
    """The ``charge`` argument as a money amount, checked where it is passed (not later, when a
    segment is written): a Decimal, an int or a decimal string, >= 0, at most 2 decimals."""
    if charge is None:
        return None
    if isinstance(charge, bool) or not isinstance(charge, Decimal | int | str):
        why = "a binary float cannot hold cents exactly" if isinstance(charge, float) else \
            f"not a {type(charge).__name__}"
        raise TypeError(f"charge: pass a Decimal, an int or a decimal string such as '100.00' "
                        f"({why})")
    try:
        amount = Decimal(charge.strip() if isinstance(charge, str) else charge)
    except ArithmeticError:
        raise ValueError("charge: not a decimal amount (such as '100.00')") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("charge: a line's charge is a finite amount, 0 or more")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("charge: at most 2 decimal places (cents)")
    return amount


def remittance(line: LineResult, *, charge: Decimal | int | str | None = None) -> Remittance:
    """The 835-style adjustments of one line: a CAS adjustment per reason, LQ*HE remarks.

    A bundled or denied line pays nothing, so when ``charge`` (the line's billed amount, SV102
    or SV203) is given the adjustment of the deciding reason (the first whose decision is the
    line's, as the ``frame`` adapter's ``carc``) carries all of it and the others 0, and the line
    balances (charge - adjustments = 0 paid). ``charge`` defaults to the line's own
    (:attr:`LineResult.charge`, echoed from the claim line); without either the amounts are
    left open (None). ``charge`` is a :class:`~decimal.Decimal`, an ``int`` or a decimal string
    (``"180.00"``); a float, a negative amount or fractions of a cent raise at the call
    (TypeError / ValueError naming ``charge``).
    An allowed line has no adjustment from claimedit (were an ``allow`` edit to fire, its
    adjustment would carry 0).

    Example:
        >>> import claimedit
        >>> line = claimedit.load_engine().evaluate_line(
        ...     {"code": "77387", "date_of_service": "2025-06-02"}, payer="medicare")
        >>> r = remittance(line, charge=Decimal("180.00"))
        >>> [(a.group_code, a.carc, a.amount) for a in r.adjustments], r.rarcs
        ([('CO', '96', Decimal('180.00'))], ('N56',))
    """
    # The charge goes to the reason that decided the line: on a line denied by one edit and
    # bundled by another, the money is adjusted for the denial, whatever the rule ids' order.
    charge = line.charge if charge is None else _line_charge(charge)
    deciding = None if line.decision is Decision.ALLOW else next(
        (i for i, reason in enumerate(line.reasons) if reason.decision is line.decision), 0)
    adjustments = []
    rarcs: dict[str, None] = {}
    for position, reason in enumerate(line.reasons):
        amount = None if charge is None else (charge if position == deciding else Decimal(0))
        adjustments.append(Adjustment(reason.group_code, reason.carc, amount))
        rarcs.update(dict.fromkeys(reason.rarcs))
    return Remittance(line.line_id, line.code, line.decision, tuple(adjustments), tuple(rarcs),
                      line.rule_ids)


def remittances(result: ClaimResult) -> list[Remittance]:
    """The remittance data of every line of a claim, in line order, each priced with its line's
    charge when the claim gave one (amounts left open otherwise).

    Example:
        >>> import claimedit
        >>> result = claimedit.load_engine().evaluate({"claim_id": "C1", "payer": "medicaid",
        ...     "lines": [{"line_id": "1", "code": "77385", "date_of_service": "2025-06-09"},
        ...               {"line_id": "2", "code": "77387", "date_of_service": "2025-06-09"}]})
        >>> [r.segments() for r in remittances(result)]
        [[], ['CAS*CO*236*0**97*0~', 'LQ*HE*N20~', 'LQ*HE*M15~']]
        >>> priced = claimedit.load_engine().evaluate({"claim_id": "C2", "payer": "medicaid",
        ...     "lines": [{"code": "77385", "date_of_service": "2025-06-09", "charge": "520.00"},
        ...               {"code": "77387", "date_of_service": "2025-06-09", "charge": "140.00"}]})
        >>> remittances(priced)[1].segments()
        ['CAS*CO*236*140**97*0~', 'LQ*HE*N20~', 'LQ*HE*M15~']
    """
    return [remittance(line) for line in result.lines]
