"""HL7 FHIR R4: Claim resources in, ClaimResponse resources out (the ``fhir`` extra).

Built on `fhir.resources <https://pypi.org/project/fhir.resources/>`_ (pydantic v2). We use its
``fhir.resources.R4B`` models explicitly: FHIR 4.3 (R4B) left the financial resources of R4
unchanged, so R4 Claims validate against them, while the package's default models are R5.

Reading a Claim (every choice below is also in ``docs/interoperability.md``):

=====================  =========================================================================
claimedit field        FHIR source
=====================  =========================================================================
``claim_id``           ``Claim.id``, else the first ``Claim.identifier.value``
``payer``              the focal ``Claim.insurance`` (else the first): its Coverage's
                       ``type`` codings, looked up in :data:`PAYER_TYPES`; else
                       ``Claim.insurer`` (reference, identifier value or display) looked up in
                       the ``insurers`` argument; else ``default_payer``
``state``              ``address[0].state`` of ``Claim.provider``, else of ``Claim.facility``,
                       when the reference resolves (contained, or in the same Bundle)
``line_id``            ``item.sequence``
``code``               ``item.productOrService``: the first coding whose system is in
                       :data:`PROCEDURE_SYSTEMS`, else the first coding without a system
``modifiers``          ``item.modifier``: chosen the same way
``date_of_service``    ``item.servicedDate``, else ``item.servicedPeriod.start``, else
                       ``Claim.billablePeriod.start`` (a dateTime counts by its written date)
``units``              ``item.quantity.value`` (a whole number), default 1
=====================  =========================================================================

A Coverage or provider is found when the reference is local (``#id``, a contained resource) or
names an entry of the same Bundle (its ``fullUrl`` or ``Type/id``).

Writing: :func:`claim_response` turns a :class:`~claimedit.results.ClaimResult` into a
ClaimResponse with one ``item`` per line (``itemSequence`` = the line id) whose adjudications are
the line's decision (category system :data:`DECISION_SYSTEM`) and one adjudication per reason:
category = the X12 group code, reason = CARC, RARCs and the rule id as codings, the message as
text.

Example:
    >>> import claimedit, json
    >>> claim = {"resourceType": "Claim", "id": "c1", "status": "active",
    ...     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
    ...                          "code": "professional"}]},
    ...     "use": "claim", "patient": {"reference": "Patient/1"}, "created": "2025-03-03",
    ...     "provider": {"reference": "Organization/1"},
    ...     "priority": {"coding": [{"code": "normal"}]},
    ...     "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#cov"}}],
    ...     "contained": [{"resourceType": "Coverage", "id": "cov", "status": "active",
    ...         "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "2"}]},
    ...         "beneficiary": {"reference": "Patient/1"},
    ...         "payor": [{"reference": "Organization/2"}]}],
    ...     "item": [{"sequence": 1, "productOrService": {"coding": [{"code": "77385"}]},
    ...               "servicedDate": "2025-04-07"},
    ...              {"sequence": 2, "productOrService": {"coding": [{"code": "77387"}]},
    ...               "servicedDate": "2025-04-07"}]}
    >>> [record] = read_fhir([json.dumps(claim)], "c1.json")
    >>> record.data["payer"], [line["code"] for line in record.data["lines"]]
    ('medicaid', ['77385', '77387'])
    >>> response = claim_response(claimedit.load_engine().evaluate(record.data), claim)
    >>> [a.category.coding[0].code for a in response.item[1].adjudication]
    ['bundle', 'CO', 'CO']
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from claimedit.adapters import MissingExtraError, PayerMap, error_record, located
from claimedit.claims import Claim, Payer
from claimedit.inputs import Record
from claimedit.results import ClaimError, ClaimResult, FieldIssue, LineResult

try:
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.claim import Claim as FhirClaim
    from fhir.resources.R4B.claimresponse import ClaimResponse
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.operationoutcome import OperationOutcome
    from fhir.resources.R4B.reference import Reference
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("fhir", "FHIR support (claimedit.adapters.fhir)", exc) from exc

__all__ = [
    "CARC_SYSTEM",
    "CPT_SYSTEM",
    "DECISION_SYSTEM",
    "GROUP_CODE_SYSTEM",
    "HCPCS_SYSTEM",
    "PAYER_TYPES",
    "PROCEDURE_SYSTEMS",
    "RARC_SYSTEM",
    "RULE_SYSTEM",
    "SOPT_SYSTEM",
    "claim_response",
    "claim_to_fhir",
    "operation_outcome",
    "read_fhir",
]

# --- code systems -----------------------------------------------------------------------------

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
"""CPT codes and CPT modifiers (26)."""
HCPCS_SYSTEM = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
"""HCPCS Level II codes and modifiers (G6001, TC), as HL7 terminology spells it."""
SOPT_SYSTEM = "https://nahdo.org/sopt"
"""Source of Payment Typology: the payer type codes US Core binds to ``Coverage.type``."""
CARC_SYSTEM = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC_SYSTEM = "https://x12.org/codes/remittance-advice-remark-codes"
GROUP_CODE_SYSTEM = "https://x12.org/codes/claim-adjustment-group-codes"
DECISION_SYSTEM = "urn:claimedit:decision"
"""claimedit's line decision: ``allow``, ``bundle`` or ``deny``."""
RULE_SYSTEM = "urn:claimedit:rule"
"""The id of the rule-pack edit that fired; ``Coding.version`` carries the pack and version."""
_CLAIM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claim-type"
_DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

PROCEDURE_SYSTEMS: tuple[str, ...] = (
    CPT_SYSTEM,
    HCPCS_SYSTEM,
    # The https spelling is common in the wild (and in some implementation guides).
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
)
"""Code systems whose codings are read as CPT/HCPCS procedure codes and modifiers."""

PAYER_TYPES: Mapping[str, Mapping[str, Payer]] = MappingProxyType({
    # SOPT codes are hierarchical (1 Medicare, 11 Medicare managed care, 111 Medicare HMO ...):
    # the longest listed prefix of a code decides. As for X12 claim filing indicators, every
    # payer that is neither Medicare nor Medicaid is judged under the commercial rules.
    SOPT_SYSTEM: MappingProxyType({
        "1": Payer.MEDICARE,     # Medicare, Medicare managed care (Medicare Advantage), dual plans
        "2": Payer.MEDICAID,     # Medicaid, Medicaid managed care
        "3": Payer.COMMERCIAL,   # other government (TRICARE, VA, Indian Health Service ...)
        "4": Payer.COMMERCIAL,   # departments of corrections
        "5": Payer.COMMERCIAL,   # private health insurance
        "6": Payer.COMMERCIAL,   # Blue Cross / Blue Shield
        "7": Payer.COMMERCIAL,   # managed care, unspecified
        "8": Payer.COMMERCIAL,   # no payment from an organization (self-pay, charity)
        "9": Payer.COMMERCIAL,   # miscellaneous / other
    }),
})
"""``Coverage.type`` coding system -> code (or code prefix) -> payer type. Pass your own mapping
to :func:`read_fhir` to add systems or to judge a payer type differently."""

def reader_options(payer_map: PayerMap) -> dict[str, Any]:
    """The keyword arguments of :func:`read_fhir` for a payer map: its payer types over the
    defaults (system by system), its insurers and default payer."""
    payer_types = {system: dict(codes) for system, codes in PAYER_TYPES.items()}
    for system, codes in payer_map.fhir_payer_types.items():
        payer_types[system] = {**payer_types.get(system, {}), **codes}
    return {"payer_types": payer_types, "insurers": payer_map.fhir_insurers,
            "default_payer": payer_map.fhir_default_payer}


_SOPT_FOR_PAYER = {Payer.MEDICARE: "1", Payer.MEDICAID: "2", Payer.COMMERCIAL: "5"}
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


# --- reading ----------------------------------------------------------------------------------


def read_fhir(
    lines: Iterable[str],
    source: str,
    *,
    payer_types: Mapping[str, Mapping[str, Payer]] = PAYER_TYPES,
    insurers: Mapping[str, Payer | str] | None = None,
    default_payer: Payer | str | None = None,
    procedure_systems: Sequence[str] = PROCEDURE_SYSTEMS,
) -> Iterator[Record]:
    """Read FHIR JSON: a Claim, a Bundle of Claims, or NDJSON (one resource a line).

    Records are numbered by Bundle entry (1-based) or NDJSON line; a lone Claim is record 1.
    Each Claim becomes a claim dict in claimedit's JSON shape, or a
    :class:`~claimedit.results.ClaimError` whose fields are FHIR paths
    (``Bundle.entry[2].resource.item[0].productOrService``). A broken Claim does not stop
    the others.

    ``insurers`` maps a ``Claim.insurer`` reference, identifier value or display to a payer
    type, for Claims whose Coverage is not sent; ``default_payer`` is the last resort.

    Example:
        >>> records = list(read_fhir(['{"resourceType": "Patient"}'], "p.json"))
        >>> str(records[0].data)
        'p.json: record 1: resourceType: Patient is not a Claim or a Bundle of Claims'
    """
    options = _Options(payer_types, insurers or {}, default_payer, tuple(procedure_systems))
    iterator = _split_lines(lines)
    head: list[str] = []
    for text in iterator:
        head.append(text)
        if text.strip():
            break
    first = head[-1].strip() if head else ""
    try:
        single = json.loads(first) if first else None
    except json.JSONDecodeError:
        single = None
    if isinstance(single, dict):
        # NDJSON (FHIR bulk data): the first non-blank line is a whole resource.
        for number, text in enumerate([*head, *iterator], start=1):
            if not text.strip():
                continue
            try:
                document = json.loads(text)
            except json.JSONDecodeError as exc:
                yield error_record(source, number, "", f"not JSON: {exc.msg} at column {exc.colno}")
                continue
            yield from _document(document, source, number, options)
        return
    text = "".join([*head, *iterator])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        yield error_record(source, 1, "",
                           f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return
    yield from _document(document, source, None, options)


def _split_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Lines ending at ``\n`` only, whatever the chunks: a caller may pass a whole document as one
    string, and JSON strings may hold other line separators (U+2028) unescaped."""
    rest = ""
    for chunk in chunks:
        rest += chunk
        start = 0
        while (end := rest.find("\n", start)) != -1:
            yield rest[start:end + 1]
            start = end + 1
        rest = rest[start:]
    if rest:
        yield rest


class _Options:
    __slots__ = ("default_payer", "insurers", "payer_types", "procedure_systems")

    def __init__(
        self,
        payer_types: Mapping[str, Mapping[str, Payer]],
        insurers: Mapping[str, Payer | str],
        default_payer: Payer | str | None,
        procedure_systems: tuple[str, ...],
    ) -> None:
        self.payer_types = payer_types
        self.insurers = insurers
        self.default_payer = default_payer
        self.procedure_systems = procedure_systems


def _document(document: Any, source: str, line: int | None, options: _Options) -> Iterator[Record]:
    """One JSON document: a Claim (record ``line`` or 1) or a Bundle (a record per entry)."""
    kind = document.get("resourceType") if isinstance(document, dict) else None
    if kind == "Claim":
        number = line or 1
        yield Record(source, number, _claim(document, source, number, "Claim", {}, options))
        return
    if kind != "Bundle":
        yield error_record(source, line or 1, "resourceType",
                     f"{kind} is not a Claim or a Bundle of Claims" if kind else
                     "missing: expected a Claim or a Bundle of Claims")
        return
    entries = document.get("entry") or []
    index: dict[str, Any] = {}
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if isinstance(entry.get("fullUrl"), str):
            index[entry["fullUrl"]] = resource
        if isinstance(resource.get("resourceType"), str) and isinstance(resource.get("id"), str):
            index[f"{resource['resourceType']}/{resource['id']}"] = resource
    found = False
    for position, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Claim":
            continue
        found = True
        # In an NDJSON file of Bundles the line number is the record; else the entry number.
        number = line or position + 1
        prefix = f"Bundle.entry[{position}].resource"
        yield Record(source, number, _claim(resource, source, number, prefix, index, options))
    if not found:
        yield error_record(source, line or 1, "Bundle.entry", "the Bundle holds no Claim resource")


def _fhir_path(prefix: str, loc: Sequence[int | str]) -> str:
    path = prefix
    for step in loc:
        path += f"[{step}]" if isinstance(step, int) else f".{step}"
    return path


def _claim(
    raw: dict[str, Any], source: str, number: int, prefix: str, index: Mapping[str, Any],
    options: _Options,
) -> dict[str, Any] | ClaimError:
    raw_id = raw.get("id")
    claim_id = raw_id if isinstance(raw_id, str) else None
    try:
        claim = FhirClaim.model_validate(raw)
    except ValidationError as exc:
        return ClaimError(source, number, claim_id, tuple(
            FieldIssue(_fhir_path(prefix, item["loc"]), item["msg"].removeprefix("Value error, "))
            for item in exc.errors(include_url=False)
        ))
    if claim_id is None and claim.identifier:
        claim_id = claim.identifier[0].value
    if claim_id is None:
        return ClaimError(source, number, None, (FieldIssue(
            f"{prefix}.id", "the Claim has neither an id nor an identifier value"),))
    if not claim.item:
        return ClaimError(source, number, claim_id, (FieldIssue(
            f"{prefix}.item", "the Claim has no items: there is no line to evaluate"),))

    contained = {f"#{r.id}": r for r in claim.contained or () if getattr(r, "id", None)}
    issues: list[FieldIssue] = []
    places: dict[str, str] = {"claim_id": f"{prefix}.id"}
    payer, payer_place = _payer(claim, prefix, contained, index, options, issues)
    places["payer"] = payer_place
    state, state_place = _state(claim, prefix, contained, index)
    places["state"] = state_place

    lines = []
    for position, item in enumerate(claim.item):
        at = f"{prefix}.item[{position}]"
        line: dict[str, Any] = {"line_id": str(item.sequence)}
        places[f"lines.{position}"] = at
        places[f"lines.{position}.line_id"] = f"{at}.sequence"
        code = _procedure(item.productOrService, options.procedure_systems)
        if code is None:
            issues.append(FieldIssue(f"{at}.productOrService",
                                     "no CPT or HCPCS coding (systems: "
                                     f"{', '.join(options.procedure_systems)})"))
        else:
            line["code"] = code
        places[f"lines.{position}.code"] = f"{at}.productOrService"
        modifiers = []
        for k, concept in enumerate(item.modifier or ()):
            modifier = _procedure(concept, options.procedure_systems)
            if modifier is None:
                issues.append(FieldIssue(f"{at}.modifier[{k}]", "no CPT or HCPCS modifier coding"))
            else:
                modifiers.append(modifier)
        if modifiers:
            line["modifiers"] = modifiers
        places[f"lines.{position}.modifiers"] = f"{at}.modifier"
        if item.servicedDate is not None:
            day: Any = item.servicedDate
            places[f"lines.{position}.date_of_service"] = f"{at}.servicedDate"
        elif item.servicedPeriod is not None and item.servicedPeriod.start is not None:
            day = item.servicedPeriod.start
            places[f"lines.{position}.date_of_service"] = f"{at}.servicedPeriod.start"
        elif claim.billablePeriod is not None and claim.billablePeriod.start is not None:
            day = claim.billablePeriod.start
            places[f"lines.{position}.date_of_service"] = f"{prefix}.billablePeriod.start"
        else:
            day = None
            issues.append(FieldIssue(f"{at}.servicedDate",
                                     "no date of service: no servicedDate, servicedPeriod or "
                                     "Claim.billablePeriod"))
        if day is not None:
            line["date_of_service"] = _iso_day(day)
        if item.quantity is not None and item.quantity.value is not None:
            line["units"] = _whole(item.quantity.value)
            places[f"lines.{position}.units"] = f"{at}.quantity.value"
        lines.append(line)
    if issues:
        return ClaimError(source, number, claim_id, tuple(issues))
    data = {"claim_id": claim_id, "payer": payer, "state": state, "lines": lines}
    return located(data, places, source, number)


def _iso_day(value: Any) -> str:
    # A dateTime counts by the calendar date it was written with: the date the service was
    # rendered where it was rendered, not that instant in another time zone.
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)  # a partial date ("2025-03"): the claim model says why it is not enough


def _whole(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


def _procedure(concept: CodeableConcept | None, systems: tuple[str, ...]) -> str | None:
    codings = concept.coding or () if concept is not None else ()
    for coding in codings:
        if coding.system in systems and coding.code:
            return str(coding.code)
    for coding in codings:
        if coding.system is None and coding.code:
            return str(coding.code)
    return None


def _resolve(reference: Reference | None, contained: Mapping[str, Any],
             index: Mapping[str, Any], kind: str) -> Any | None:
    """The resource a reference names, when it is contained or in the same Bundle."""
    if reference is None or not reference.reference:
        return None
    target = reference.reference
    if target.startswith("#"):
        found = contained.get(target)
        return found if found is not None and found.get_resource_type() == kind else None
    raw = index.get(target)
    if raw is None and "/" in target:
        # An absolute URL ending in Type/id names the same resource as the relative form.
        raw = index.get("/".join(target.rsplit("/", 2)[-2:]))
    if not isinstance(raw, dict) or raw.get("resourceType") != kind:
        return None
    try:
        return get_fhir_model_class(kind).model_validate(raw)
    except ValidationError:
        return None  # an unreadable Coverage or provider gives no information


def _payer(claim: FhirClaim, prefix: str, contained: Mapping[str, Any], index: Mapping[str, Any],
           options: _Options, issues: list[FieldIssue]) -> tuple[str | None, str]:
    insurance = claim.insurance or []
    position = next((i for i, item in enumerate(insurance) if item.focal), 0)
    if insurance:
        place = f"{prefix}.insurance[{position}].coverage"
        coverage = _resolve(insurance[position].coverage, contained, index, "Coverage")
    else:  # R4B requires an insurance, but fhir.resources lets an empty list through
        place, coverage = f"{prefix}.insurance", None
    if coverage is not None and coverage.type is not None:
        for coding in coverage.type.coding or ():
            codes = options.payer_types.get(coding.system or "")
            code = coding.code or ""
            while codes is not None and code:
                if code in codes:
                    return Payer(codes[code]).value, place
                code = code[:-1]
    insurer = claim.insurer
    if insurer is not None:
        keys = [insurer.reference, insurer.display,
                insurer.identifier.value if insurer.identifier is not None else None]
        for key in keys:
            if key is not None and key in options.insurers:
                return Payer(options.insurers[key]).value, f"{prefix}.insurer"
    if options.default_payer is not None:
        return Payer(options.default_payer).value, place
    if not insurance:
        why = "the Claim lists no insurance"
    elif coverage is None:
        why = "its Coverage is neither contained nor in the Bundle"
    else:
        why = "its Coverage.type has no coding in " + ", ".join(options.payer_types)
    issues.append(FieldIssue(place, f"cannot tell the payer type: {why}, and Claim.insurer "
                                    "is not in the insurers mapping"))
    return None, place


def _state(claim: FhirClaim, prefix: str, contained: Mapping[str, Any],
           index: Mapping[str, Any]) -> tuple[str | None, str]:
    for field, kinds in (("provider", ("Organization", "Practitioner", "PractitionerRole")),
                         ("facility", ("Location",))):
        reference = getattr(claim, field)
        for kind in kinds:
            resource = _resolve(reference, contained, index, kind)
            if resource is None:
                continue
            address = resource.address
            if isinstance(address, list):
                address = address[0] if address else None
            if address is not None and address.state:
                return str(address.state), f"{prefix}.{field} ({kind}.address.state)"
    return None, f"{prefix}.provider"


# --- writing ----------------------------------------------------------------------------------


def claim_response(
    result: ClaimResult,
    claim: FhirClaim | Mapping[str, Any] | None = None,
    *,
    created: dt.date | dt.datetime | None = None,
) -> ClaimResponse:
    """The ClaimResponse for a claim's results, as a ``fhir.resources`` R4B model.

    Pass the FHIR ``claim`` the results came from to copy its type, patient and insurer;
    without it those required elements carry a ``data-absent-reason`` extension (claimedit's
    claims do not hold them). ``created`` defaults to today.

    Example:
        >>> import claimedit
        >>> result = claimedit.load_engine().evaluate({"claim_id": "C1", "payer": "medicare",
        ...     "lines": [{"line_id": "1", "code": "77387", "date_of_service": "2025-06-02"}]})
        >>> response = claim_response(result, created=dt.date(2025, 6, 3))
        >>> response.request.reference, response.item[0].itemSequence
        ('Claim/C1', 1)
        >>> [c.code for c in response.item[0].adjudication[1].reason.coding]
        ['96', 'N56', 'IGRT-MEDICARE-77387']
    """
    if claim is not None and not isinstance(claim, FhirClaim):
        claim = FhirClaim.model_validate(dict(claim))
    absent = {"extension": [{"url": _DATA_ABSENT, "valueCode": "unknown"}]}
    if _FHIR_ID.match(result.claim_id):
        request: dict[str, Any] = {"reference": f"Claim/{result.claim_id}"}
    else:
        request = {"identifier": {"value": result.claim_id}}
    counts: dict[str, int] = {}
    for line in result.lines:
        counts[line.decision.value] = counts.get(line.decision.value, 0) + 1
    p = result.provenance
    data: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": claim.type.model_dump(mode="json") if claim is not None else absent,
        "use": claim.use if claim is not None else "claim",
        "patient": claim.patient.model_dump(mode="json") if claim is not None else absent,
        "created": (created or dt.date.today()).isoformat(),
        "insurer": (claim.insurer.model_dump(mode="json")
                    if claim is not None and claim.insurer is not None else absent),
        "request": request,
        "outcome": "complete",
        "disposition": f"{p.pack} {p.version}: "
                       + ", ".join(f"{n} {decision}" for decision, n in counts.items()),
        "item": [_item(line, position, result) for position, line in enumerate(result.lines, 1)],
    }
    return ClaimResponse.model_validate(data)


def _item(line: LineResult, position: int, result: ClaimResult) -> dict[str, Any]:
    # itemSequence must point at Claim.item.sequence; claimedit line ids from FHIR and X12 are
    # those numbers, and other sources fall back on the line's position.
    sequence = int(line.line_id) if line.line_id and line.line_id.isdigit() else position
    version = f"{result.provenance.pack} {result.provenance.version}"
    adjudication: list[dict[str, Any]] = [
        {"category": {"coding": [{"system": DECISION_SYSTEM, "code": line.decision.value}]}}
    ]
    for reason in line.reasons:
        codings = [{"system": CARC_SYSTEM, "code": reason.carc}]
        codings += [{"system": RARC_SYSTEM, "code": rarc} for rarc in reason.rarcs]
        codings.append({"system": RULE_SYSTEM, "version": version, "code": reason.rule_id})
        adjudication.append({
            "category": {"coding": [{"system": GROUP_CODE_SYSTEM, "code": reason.group_code}],
                         "text": reason.decision.value},
            "reason": {"coding": codings, "text": reason.message},
        })
    return {"itemSequence": sequence, "adjudication": adjudication}


def operation_outcome(error: ClaimError) -> OperationOutcome:
    """An OperationOutcome for a record that could not be evaluated: one issue per fault.

    Example:
        >>> outcome = operation_outcome(ClaimError("b.json", 2, "c2",
        ...     (FieldIssue("Bundle.entry[1].resource.item", "the Claim has no items"),)))
        >>> outcome.issue[0].expression, outcome.issue[0].diagnostics
        (['Bundle.entry[1].resource.item'], 'b.json: record 2 (claim c2): the Claim has no items')
    """
    where = f"{error.source}: record {error.record}"
    if error.claim_id is not None:
        where += f" (claim {error.claim_id})"
    issues = []
    for issue in error.issues or (FieldIssue("", "invalid record"),):
        entry: dict[str, Any] = {"severity": "error", "code": "invalid",
                                 "diagnostics": f"{where}: {issue.reason}"}
        if issue.field:
            entry["expression"] = [issue.field]
        issues.append(entry)
    return OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": issues})


def claim_to_fhir(claim: Claim, *, created: dt.date | None = None) -> FhirClaim:
    """A FHIR Claim for a claimedit claim: the inverse of :func:`read_fhir`.

    The payer type goes into a contained Coverage (SOPT 1 Medicare, 2 Medicaid, 5 private
    insurance), the state into a contained provider Organization; the patient, which claimedit
    does not hold, carries a ``data-absent-reason`` extension.

    Example:
        >>> from claimedit import parse_claim
        >>> claim = parse_claim({"claim_id": "C1", "payer": "medicaid", "state": "OH",
        ...     "lines": [{"line_id": "1", "code": "G6001", "modifiers": ["TC"],
        ...                "date_of_service": "2025-03-03"}]})
        >>> resource = claim_to_fhir(claim)
        >>> [c.code for c in resource.item[0].modifier[0].coding]
        ['TC']
    """
    absent = {"extension": [{"url": _DATA_ABSENT, "valueCode": "unknown"}]}
    contained: list[dict[str, Any]] = [{
        "resourceType": "Coverage", "id": "coverage", "status": "active",
        "type": {"coding": [{"system": SOPT_SYSTEM, "code": _SOPT_FOR_PAYER[claim.payer]}]},
        "beneficiary": absent, "payor": [absent],
    }]
    provider: dict[str, Any] = absent
    if claim.state is not None:
        contained.append({"resourceType": "Organization", "id": "provider",
                          "address": [{"state": claim.state}]})
        provider = {"reference": "#provider"}
    items = []
    for position, line in enumerate(claim.lines, start=1):
        sequence = int(line.line_id) if line.line_id and line.line_id.isdigit() else position
        item: dict[str, Any] = {
            "sequence": sequence,
            "productOrService": {"coding": [_coding(line.code)]},
            "servicedDate": line.date_of_service.isoformat(),
            "quantity": {"value": line.units},
        }
        if line.modifiers:
            item["modifier"] = [{"coding": [_coding(m)]} for m in line.modifiers]
        items.append(item)
    return FhirClaim.model_validate({
        "resourceType": "Claim", "id": claim.claim_id if _FHIR_ID.match(claim.claim_id) else None,
        "identifier": [{"value": claim.claim_id}], "contained": contained, "status": "active",
        "type": {"coding": [{"system": _CLAIM_TYPE_SYSTEM, "code": "professional"}]},
        "use": "claim", "patient": absent, "created": (created or dt.date.today()).isoformat(),
        "provider": provider, "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}}],
        "item": items,
    })


def _coding(code: str) -> dict[str, str]:
    # CPT codes and modifiers are numeric or end in a letter after digits (0001F); HCPCS Level II
    # codes and modifiers start with a letter (G6001, TC).
    return {"system": CPT_SYSTEM if code[0].isdigit() else HCPCS_SYSTEM, "code": code}
