"""X12 837 claims in (837P professional, 837I institutional, version 5010), 835-style remittance
adjustments out (the ``x12`` extra).

Parsing and validation are `pyx12 <https://pypi.org/project/pyx12/>`_'s: it walks each segment
against the implementation guide's map (5010 837P ``005010X222A1``, 837I ``005010X223A2``),
knows which loop a segment belongs to, and reports broken segments and elements with their place.
Why pyx12 and not x12sdk or LinuxForHealth x12: see ``docs/interoperability.md``.

Reading, claim by claim (every 2300 loop is one record, numbered 1, 2, ... in the file):

=====================  =========================================================================
claimedit field        X12 source
=====================  =========================================================================
``claim_id``           2300 CLM01 (the patient control number)
``payer``              2000B SBR09 (claim filing indicator) via :data:`CLAIM_FILING_INDICATORS`
``state``              2010AA N402 (the billing provider's state)
``line_id``            2400 LX01
``code``               837P SV101-2 / 837I SV202-2 (qualifier HC: CPT/HCPCS)
``modifiers``          SV101-3..6 / SV202-3..6
``units``              SV104 / SV205 (a whole number; default 1)
``date_of_service``    2400 DTP*472 (D8, or the first day of RD8), else the claim's statement
                       period start, 2300 DTP*434 (837I)
=====================  =========================================================================

837I lines with a revenue code and no HCPCS code (SV202 empty: room and board, supplies) are not
evaluated: the policy judges CPT/HCPCS codes. A claim with any broken segment (pyx12's
finding), or a value that does not fit, is an error record naming the loop, element and
segment number (``2400[2] SV101-2 (segment 26)``); the other claims of the file are evaluated.
Faults outside every claim (envelope counts, header loops) are error records numbered 0.

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

import io
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

from claimedit.adapters import MissingExtraError, PayerMap, error_record, located
from claimedit.claims import Payer
from claimedit.inputs import Record
from claimedit.results import ClaimError, ClaimResult, Decision, FieldIssue, LineResult

try:
    import pyx12.error_handler  # type: ignore[import-untyped]
    import pyx12.params  # type: ignore[import-untyped]
    import pyx12.x12context  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("x12", "X12 837 support (claimedit.adapters.x12)", exc) from exc

__all__ = [
    "CLAIM_FILING_INDICATORS",
    "Adjustment",
    "Remittance",
    "read_x12",
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


# GS08 version -> which service line segment the transaction carries.
_SERVICE_SEGMENTS = {"005010X222A1": "SV1", "005010X223A2": "SV2"}
# Position of the procedure composite and the units in SV1 and SV2.
_PROCEDURE = {"SV1": "SV101", "SV2": "SV202"}
_UNITS = {"SV1": "SV104", "SV2": "SV205"}
_HCPCS_QUALIFIER = "HC"  # X12 element 235: HCPCS codes, CPT included (Level I)


# --- reading ----------------------------------------------------------------------------------


def read_x12(
    lines: Iterable[str],
    source: str,
    *,
    filing_indicators: Mapping[str, Payer | str] = CLAIM_FILING_INDICATORS,
) -> Iterator[Record]:
    """Read an X12 837 file (one or more interchanges): one record per claim (2300 loop).

    The file streams: pyx12 reads it in chunks and hands over one claim loop at a time.

    Example:
        >>> records = list(read_x12(["ISA*00*broken~"], "bad.837"))
        >>> records[0].number, records[0].data.issues[0].field
        (0, 'ISA')
    """
    log = _ErrorLog()
    context = _Context()
    number = 0
    try:
        reader = pyx12.x12context.X12ContextReader(pyx12.params.params(), log, _Stream(lines))
        nodes = reader.iter_segments("2300")
    except Exception as exc:  # pyx12 raises many kinds on a broken interchange header
        yield error_record(source, 0, "ISA", f"not a readable X12 interchange: {exc}")
        return
    while True:
        try:
            node = next(nodes)
        except StopIteration:
            break
        except Exception as exc:
            # pyx12 cannot go on past some faults (a segment it cannot place in any loop); the
            # claims before it have been evaluated, the rest of the file cannot be read.
            line = reader.get_cur_line  # a property of pyx12's: the segment it stopped at
            rest = (f"the claims after record {number} were not read" if number
                    else "no claim of the file was read")
            yield error_record(source, 0, f"segment {line}",
                               f"cannot read the file from segment {line} on: "
                               f"{' '.join(str(exc).split())}; {rest}")
            break
        if node.id != "2300":
            context.update(node)
            continue
        number += 1
        segments = list(_walk(node))
        first = segments[0].cur_line_number
        last = segments[-1].cur_line_number
        for problem in [*log.take_envelope(), *log.take(before=first)]:
            yield Record(source, 0, problem.as_error(source))
        problems = log.take(before=last + 1)
        yield Record(source, number, _claim(node, context, problems, filing_indicators,
                                            source, number))
    for problem in [*log.take_envelope(), *log.take(before=None)]:
        yield Record(source, 0, problem.as_error(source))


class _Stream(io.TextIOBase):
    """A text file over lines: pyx12 reads its input in chunks with ``read(size)``.

    X12 often comes as one line of megabytes; the buffer is sliced from a position, not
    re-copied on every read, so reading stays linear in the size of the file.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        super().__init__()
        self._lines = iter(lines)
        self._buffer = ""
        self._position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            chunk = self._buffer[self._position:] + "".join(self._lines)
            self._buffer, self._position = "", 0
            return chunk
        while len(self._buffer) - self._position < size:
            text = next(self._lines, None)
            if text is None:
                break
            self._buffer = self._buffer[self._position:] + text
            self._position = 0
        chunk = self._buffer[self._position:self._position + size]
        self._position += len(chunk)
        return chunk


class _Problem(NamedTuple):
    line: int
    """The segment's 1-based position in the file."""
    loop: str
    segment: str
    element: str
    message: str

    @property
    def place(self) -> str:
        # Envelope findings can have neither loop nor segment id: no empty place then.
        parts = (self.loop, self.element or self.segment, f"(segment {self.line})")
        return " ".join(part for part in parts if part)

    def as_error(self, source: str) -> ClaimError:
        return ClaimError(source, 0, None, (FieldIssue(self.place, self.message),))


class _ErrorLog(pyx12.error_handler.errh_null):  # type: ignore[misc]
    """Collects pyx12's findings with the segment each is about, to hand them to the claim
    whose segments they fall in."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self._loop = ""
        self._segment = ""
        self._problems: list[_Problem] = []
        self._envelope: list[_Problem] = []

    def add_seg(self, map_node: Any, seg: Any, seg_count: int, cur_line: int,
                ls_id: str | None) -> None:
        self.line = cur_line
        path = map_node.get_path().split("/") if map_node is not None else []
        self._loop = path[-2] if len(path) > 1 else ""
        self._segment = seg.get_seg_id() if seg is not None else ""

    def _add(self, line: int | None, element: str, message: str) -> None:
        self._problems.append(_Problem(line or self.line, self._loop, self._segment,
                                       element, " ".join(message.split())))

    def seg_error(self, err_cde: str, err_str: str, err_value: str | None = None,
                  src_line: int | None = None) -> None:
        self._add(src_line, "", err_str)

    def ele_error(self, err_cde: str, err_str: str, bad_value: str | None,
                  refdes: str | None = None) -> None:
        self._add(None, refdes or "", err_str)

    def handle_errors(self, err_list: list[tuple[str, str, str, Any, int | None]]) -> None:
        for kind, _code, message, _value, line in err_list:
            if kind in ("isa", "gs", "st"):
                self._envelope_error(kind.upper(), message, line)
            else:
                self._add(line, "", message)

    def _envelope_error(self, segment: str, message: str, line: int | None = None) -> None:
        # Envelope faults (control numbers, segment counts) belong to no claim.
        self._envelope.append(_Problem(line or self.line, "", segment, "", message))

    def isa_error(self, err_cde: str, err_str: str) -> None:
        self._envelope_error("ISA", err_str)

    def gs_error(self, err_cde: str, err_str: str) -> None:
        self._envelope_error("GS", err_str)

    def st_error(self, err_cde: str, err_str: str) -> None:
        self._envelope_error("ST", err_str)

    def take(self, *, before: int | None) -> list[_Problem]:
        """Remove and return the problems on segments before ``before`` (all when None)."""
        taken = [p for p in self._problems if before is None or p.line < before]
        self._problems = [p for p in self._problems if before is not None and p.line >= before]
        return taken

    def take_envelope(self) -> list[_Problem]:
        """Remove and return the envelope problems found so far."""
        taken, self._envelope = self._envelope, []
        return taken


class _Context:
    """What the loops above a claim say about it: the transaction, provider state, payer."""

    def __init__(self) -> None:
        self.version = ""
        self.state: str | None = None
        self.state_place = "2010AA N402"
        self.filing: str | None = None
        self.filing_place = "2000B SBR09"

    def update(self, node: Any) -> None:
        seg = node.seg_data
        if seg is None:
            return
        seg_id = seg.get_seg_id()
        loops = node.cur_path.split("/")
        line = node.cur_line_number
        if seg_id == "GS":
            self.version = seg.get_value("GS08") or ""
        elif seg_id == "HL":
            level = seg.get_value("HL03")
            if level == "20":  # a new billing provider
                self.state, self.state_place = None, f"2010AA N402 (no N4 after segment {line})"
            elif level == "22":  # a new subscriber
                self.filing, self.filing_place = None, f"2000B SBR09 (no SBR after segment {line})"
        elif seg_id == "N4" and "2010AA" in loops:
            self.state = seg.get_value("N402") or None
            self.state_place = f"2010AA N402 (segment {line})"
        elif seg_id == "SBR" and "2000B" in loops:
            self.filing = seg.get_value("SBR09") or None
            self.filing_place = f"2000B SBR09 (segment {line})"


def _walk(node: Any) -> Iterator[Any]:
    """Every segment node of a loop, in file order."""
    for child in node.children:
        if child.type == "seg":
            yield child
        elif child.type == "loop":
            yield from _walk(child)


def _date(value: str | None) -> str | None:
    """D8 ``CCYYMMDD`` or the first day of RD8 ``CCYYMMDD-CCYYMMDD``, as ISO; else as sent
    (the claim model then says what is wrong with it)."""
    if not value:
        return None
    first = value.split("-", 1)[0]
    if len(first) == 8 and first.isdigit():
        return f"{first[:4]}-{first[4:6]}-{first[6:]}"
    return value


def _claim(
    node: Any, context: _Context, problems: list[_Problem],
    filing_indicators: Mapping[str, Payer | str], source: str, number: int,
) -> dict[str, Any] | ClaimError:
    issues = [FieldIssue(problem.place, problem.message) for problem in problems]
    clm = next(s for s in node.children if s.type == "seg")
    claim_id = clm.seg_data.get_value("CLM01") or None
    places = {"claim_id": f"2300 CLM01 (segment {clm.cur_line_number})",
              "payer": context.filing_place, "state": context.state_place}
    if claim_id is None:
        issues.append(FieldIssue(places["claim_id"], "no patient control number"))

    payer = None
    if context.filing is None:
        issues.append(FieldIssue(context.filing_place, "no claim filing indicator"))
    elif context.filing not in filing_indicators:
        issues.append(FieldIssue(context.filing_place,
                                 f"claim filing indicator {context.filing!r} is not mapped to a "
                                 "payer type"))
    else:
        payer = Payer(filing_indicators[context.filing]).value

    service = _SERVICE_SEGMENTS.get(context.version)
    if service is None:
        issues.append(FieldIssue("GS08", f"{context.version or 'no version'} is not an 837P "
                                         "(005010X222A1) or 837I (005010X223A2) transaction"))
        return ClaimError(source, number, claim_id, tuple(issues))

    statement: str | None = None
    statement_place = "2300 DTP*434"
    for seg in node.children:
        if seg.type == "seg" and seg.seg_data.get_seg_id() == "DTP" \
                and seg.seg_data.get_value("DTP01") == "434":
            statement = _date(seg.seg_data.get_value("DTP03"))
            statement_place = f"2300 DTP03 (segment {seg.cur_line_number})"

    lines: list[dict[str, Any]] = []
    for k, loop in enumerate((c for c in node.children if c.type == "loop" and c.id == "2400"), 1):
        line, line_issues, line_places = _line(loop, k, service, statement, statement_place)
        issues += line_issues
        if line is not None:
            for key, place in line_places.items():
                places[f"lines.{len(lines)}{key}"] = place
            lines.append(line)
    if not lines and not issues:
        issues.append(FieldIssue(f"2300 CLM (segment {clm.cur_line_number})",
                                 "no service line with a CPT/HCPCS code"))
    if issues:
        return ClaimError(source, number, claim_id, tuple(issues))
    data = {"claim_id": claim_id, "payer": payer, "state": context.state, "lines": lines}
    return located(data, places, source, number)


def _line(
    loop: Any, k: int, service: str, statement: str | None, statement_place: str,
) -> tuple[dict[str, Any] | None, list[FieldIssue], dict[str, str]]:
    """One 2400 loop: the line dict (None when not evaluated), its issues and its places."""
    segments: dict[str, Any] = {}
    for seg in loop.children:
        if seg.type != "seg":
            continue
        seg_id = seg.seg_data.get_seg_id()
        if seg_id == "DTP" and seg.seg_data.get_value("DTP01") != "472":
            continue
        segments.setdefault(seg_id, seg)
    at = f"2400[{k}]"
    lx = segments.get("LX")
    sv = segments.get(service)
    if sv is None:
        where = f"segment {lx.cur_line_number}" if lx is not None else "the line"
        return None, [FieldIssue(f"{at} {service}", f"no {service} service line ({where})")], {}
    n = sv.cur_line_number
    composite = _PROCEDURE[service]
    qualifier = sv.seg_data.get_value(f"{composite}-1")
    code = sv.seg_data.get_value(f"{composite}-2")
    if service == "SV2" and not qualifier and not code:
        return None, [], {}  # a revenue-code-only institutional line: no CPT/HCPCS to judge
    if qualifier != _HCPCS_QUALIFIER:
        sent = f"procedure code qualifier {qualifier!r}" if qualifier else "no procedure code"
        return None, [FieldIssue(f"{at} {composite}-1 (segment {n})",
                                 f"{sent}: expected {_HCPCS_QUALIFIER}:<CPT/HCPCS code>")], {}
    line: dict[str, Any] = {"code": code or ""}
    places = {"": f"{at} (segment {n})", ".code": f"{at} {composite}-2 (segment {n})",
              ".modifiers": f"{at} {composite}-3..6 (segment {n})",
              ".units": f"{at} {_UNITS[service]} (segment {n})"}
    if lx is not None:
        line["line_id"] = lx.seg_data.get_value("LX01")
        places[".line_id"] = f"{at} LX01 (segment {lx.cur_line_number})"
    modifiers = [m for m in (sv.seg_data.get_value(f"{composite}-{i}") for i in range(3, 7)) if m]
    if modifiers:
        line["modifiers"] = modifiers
    units = sv.seg_data.get_value(_UNITS[service])
    if units:
        # A whole quantity becomes an int; anything else goes on for the claim model to name.
        quantity = Decimal(units) if _is_number(units) else None
        if quantity is None:
            line["units"] = units
        else:
            line["units"] = int(quantity) if quantity == quantity.to_integral_value() else quantity
    dtp = segments.get("DTP")
    if dtp is not None:
        line["date_of_service"] = _date(dtp.seg_data.get_value("DTP03"))
        places[".date_of_service"] = f"{at} DTP03 (segment {dtp.cur_line_number})"
    elif statement is not None:
        line["date_of_service"] = statement
        places[".date_of_service"] = statement_place
    else:
        return None, [FieldIssue(f"{at} DTP*472 (segment {n})",
                                 "no service date (DTP*472) and no statement period (2300 "
                                 "DTP*434) to fall back on")], {}
    return line, [], places


def _is_number(text: str) -> bool:
    # Finite only: Decimal reads "Infinity" and "NaN" too, and int() of those raises.
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False


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
    balances (charge - adjustments = 0 paid). Without it the amounts are left open (None).
    ``charge`` is a :class:`~decimal.Decimal`, an ``int`` or a decimal string (``"180.00"``);
    a float, a negative amount or fractions of a cent raise at the call (TypeError /
    ValueError naming ``charge``).
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
    charge = _line_charge(charge)
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
    """The remittance data of every line of a claim, in line order (amounts left open).

    Example:
        >>> import claimedit
        >>> result = claimedit.load_engine().evaluate({"claim_id": "C1", "payer": "medicaid",
        ...     "lines": [{"line_id": "1", "code": "77385", "date_of_service": "2025-06-09"},
        ...               {"line_id": "2", "code": "77387", "date_of_service": "2025-06-09"}]})
        >>> [r.segments() for r in remittances(result)]
        [[], ['CAS*CO*236*0**97*0~', 'LQ*HE*N20~', 'LQ*HE*M15~']]
    """
    return [remittance(line) for line in result.lines]
