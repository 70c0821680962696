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
                       ``Claim.billablePeriod.start`` when the period is one day (a dateTime
                       counts by its written date)
``units``              ``item.quantity.value`` (a whole number), default 1
=====================  =========================================================================

A Coverage or provider is found when the reference is local (``#id``, a contained resource) or
names an entry of the same Bundle (its ``fullUrl`` or ``Type/id``).

Writing: :func:`claim_response` turns a :class:`~claimedit.results.ClaimResult` into a
ClaimResponse with one ``item`` per line (``itemSequence`` = the line id) whose adjudications are
the line's decision (category system :data:`DECISION_SYSTEM`) and one adjudication per reason:
category = the X12 group code, reason = the CARC (one coding: a CodeableConcept's codings are
one concept in several systems) with the message as text, and as extensions the rule id
(:data:`RULE_EXTENSION`) and each RARC (:data:`RARC_EXTENSION`).

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
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from claimedit.adapters import MissingExtraError, PayerMap, error_record, located
from claimedit.claims import Claim, ClaimType, Payer
from claimedit.inputs import Record
from claimedit.limits import quote
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
    "RARC_EXTENSION",
    "RARC_SYSTEM",
    "RULE_EXTENSION",
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
RULE_EXTENSION = "urn:claimedit:extension:rule"
"""Extension on a ClaimResponse adjudication: the edit that fired (a :data:`RULE_SYSTEM`
coding)."""
RARC_EXTENSION = "urn:claimedit:extension:remark"
"""Extension on a ClaimResponse adjudication: one remittance advice remark code (a
:data:`RARC_SYSTEM` coding), as many as the reason has."""
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
        # The first non-blank line is a whole resource: NDJSON (FHIR bulk data), or one
        # minified document, whose Bundle entries are then numbered as in a pretty one.
        rest: list[str] = []
        for text in iterator:
            rest.append(text)
            if text.strip():
                break
        if not any(text.strip() for text in rest):
            yield from _document(single, source, None, options)
            return
        for number, text in enumerate([*head, *rest, *iterator], start=1):
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
        yield Record(source, number, *_claim(document, source, number, "Claim", {}, options))
        return
    if kind != "Bundle":
        yield error_record(source, line or 1, "resourceType",
                     f"{kind} is not a Claim or a Bundle of Claims" if kind else
                     "missing: expected a Claim or a Bundle of Claims")
        return
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        yield error_record(source, line or 1, "Bundle.entry",
                           f"a {type(entries).__name__}, not a list of entries")
        return
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
        yield Record(source, number, *_claim(resource, source, number, prefix, index, options))
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
) -> tuple[dict[str, Any] | ClaimError, tuple[FieldIssue, ...]]:
    """One Claim: its claimedit claim dict (or error), and the notes on items not evaluated."""
    raw_id = raw.get("id")
    claim_id = raw_id if isinstance(raw_id, str) else None
    unknown = _unknown_contained(raw, prefix)
    if unknown:
        return ClaimError(source, number, claim_id, tuple(unknown)), ()
    try:
        claim = FhirClaim.model_validate(raw)
    except ValidationError as exc:
        return ClaimError(source, number, claim_id, tuple(
            FieldIssue(_fhir_path(prefix, item["loc"]), item["msg"].removeprefix("Value error, "))
            for item in exc.errors(include_url=False)
        )), ()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # fhir.resources raises these for shapes its validators do not expect.
        return ClaimError(source, number, claim_id, (FieldIssue(
            prefix, f"not a Claim the FHIR R4B models can read ({type(exc).__name__})"),)), ()
    if claim_id is None and claim.identifier:
        claim_id = claim.identifier[0].value
    if claim_id is None:
        return ClaimError(source, number, None, (FieldIssue(
            f"{prefix}.id", "the Claim has neither an id nor an identifier value"),)), ()
    if not claim.item:
        return ClaimError(source, number, claim_id, (FieldIssue(
            f"{prefix}.item", "the Claim has no items: there is no line to evaluate"),)), ()

    contained = {f"#{r.id}": r for r in claim.contained or () if getattr(r, "id", None)}
    issues: list[FieldIssue] = []
    notes: list[FieldIssue] = []
    places: dict[str, str] = {"claim_id": f"{prefix}.id"}
    payer, payer_place = _payer(claim, prefix, contained, index, options, issues)
    places["payer"] = payer_place
    state, state_place = _state(claim, prefix, contained, index)
    places["state"] = state_place
    data: dict[str, Any] = {"claim_id": claim_id, "payer": payer, "state": state}
    _claim_fields(claim, prefix, contained, index, data, places, issues)

    # Claim.billablePeriod stands for an item's date only when it is one day: an item of a
    # longer period without its own date could be on any of its days, and same-day edits judged
    # on the first day would bundle or allow the wrong items.
    period = claim.billablePeriod
    billed_day: Any = None
    several_days = False
    if period is not None and period.start is not None:
        if period.end is None or _iso_day(period.end) == _iso_day(period.start):
            billed_day = period.start
        else:
            several_days = True

    lines: list[dict[str, Any]] = []
    for position, item in enumerate(claim.item):
        at = f"{prefix}.item[{position}]"
        code = _procedure(item.productOrService, options.procedure_systems)
        if code is None:
            # A drug, a supply, a revenue code: not this engine's business. The item is left
            # out and the claim says so; its other items are decided.
            notes.append(FieldIssue(f"{at}.productOrService",
                                    "no CPT or HCPCS coding (systems: "
                                    f"{', '.join(options.procedure_systems)}): the item is not "
                                    "evaluated", "not_evaluated"))
            continue
        k = len(lines)
        line: dict[str, Any] = {"line_id": str(item.sequence), "code": code}
        places[f"lines.{k}"] = at
        places[f"lines.{k}.line_id"] = f"{at}.sequence"
        places[f"lines.{k}.code"] = f"{at}.productOrService"
        modifiers = []
        for m, concept in enumerate(item.modifier or ()):
            modifier = _procedure(concept, options.procedure_systems)
            if modifier is None:
                issues.append(FieldIssue(f"{at}.modifier[{m}]", "no CPT or HCPCS modifier coding"))
            else:
                modifiers.append(modifier)
        if modifiers:
            line["modifiers"] = modifiers
        places[f"lines.{k}.modifiers"] = f"{at}.modifier"
        if item.servicedDate is not None:
            day: Any = item.servicedDate
            places[f"lines.{k}.date_of_service"] = f"{at}.servicedDate"
        elif item.servicedPeriod is not None and item.servicedPeriod.start is not None:
            day = item.servicedPeriod.start
            places[f"lines.{k}.date_of_service"] = f"{at}.servicedPeriod.start"
        elif billed_day is not None:
            day = billed_day
            places[f"lines.{k}.date_of_service"] = f"{prefix}.billablePeriod.start"
        else:
            day = None
            why = "no servicedDate, servicedPeriod or Claim.billablePeriod" if not several_days \
                else "no servicedDate or servicedPeriod, and Claim.billablePeriod covers several " \
                     "days: which is the item's?"
            issues.append(FieldIssue(f"{at}.servicedDate", f"no date of service: {why}",
                                     "missing"))
        if day is not None:
            line["date_of_service"] = _iso_day(day)
        if item.quantity is not None and item.quantity.value is not None:
            line["units"] = _whole(item.quantity.value)
            places[f"lines.{k}.units"] = f"{at}.quantity.value"
        charge, places[f"lines.{k}.charge"] = _charge(item, at)
        if charge is not None:
            line["charge"] = charge
        lines.append(line)
    if not lines:
        issues.append(FieldIssue(f"{prefix}.item", "no item with a CPT or HCPCS code"))
        issues += notes
    if issues:
        return ClaimError(source, number, claim_id, tuple(issues)), tuple(notes)
    data["lines"] = lines
    return located(data, places, source, number), tuple(notes)


def _unknown_contained(raw: dict[str, Any], prefix: str) -> list[FieldIssue]:
    """Contained resources the R4B models do not know (fhir.resources raises KeyError on them)."""
    contained = raw.get("contained")
    if not isinstance(contained, list):
        return []
    issues = []
    for k, resource in enumerate(contained):
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        try:
            known = isinstance(kind, str) and get_fhir_model_class(kind) is not None
        except (KeyError, ValueError):
            known = False
        if not known:
            shown = repr(kind[:40]) if isinstance(kind, str) else "no resourceType"
            issues.append(FieldIssue(f"{prefix}.contained[{k}].resourceType",
                                     f"{shown} is not a FHIR R4 resource type"))
    return issues


_NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
_SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
_MEMBER_TYPES = ("MB", "SN")  # identifier types: member number, subscriber number (v2-0203)
_CLAIM_TYPES = {"professional": ClaimType.PROFESSIONAL, "institutional": ClaimType.INSTITUTIONAL}


def _claim_fields(claim: FhirClaim, prefix: str, contained: Mapping[str, Any],
                  index: Mapping[str, Any], data: dict[str, Any], places: dict[str, str],
                  issues: list[FieldIssue]) -> None:
    """claim_type, patient_id, provider_id and frequency_code, where the Claim says them."""
    # Claim.type is 1..1 in FHIR, yet a feed may leave it out: then the claim says no type.
    stated = claim.type.coding if claim.type is not None else None
    codes = [c.code for c in (stated or ()) if c.system in (_CLAIM_TYPE_SYSTEM, None)]
    kind = next((_CLAIM_TYPES[code] for code in codes if code in _CLAIM_TYPES), None)
    if kind is not None:
        data["claim_type"] = kind.value
    elif codes:
        issues.append(FieldIssue(f"{prefix}.type", f"claim type {quote(codes[0])}: claimedit "
                                 "judges professional and institutional claims"))
    places["claim_type"] = f"{prefix}.type"

    patient = _resolve(claim.patient, contained, index, "Patient")
    member = None
    if patient is not None:
        # A social security number is never taken as the patient id: it would be stored with
        # the claim history and is not the plan's key for the patient.
        identifiers = [i for i in patient.identifier or () if i.system != _SSN_SYSTEM and not (
            i.type is not None and any(c.code == "SS" for c in i.type.coding or ()))]
        typed = [i for i in identifiers if i.type is not None and any(
            c.code in _MEMBER_TYPES for c in i.type.coding or ())]
        member = next((i.value for i in typed + identifiers if i.value), None)
    if member is None and claim.patient is not None:
        reference = claim.patient
        member = (reference.identifier.value if reference.identifier is not None
                  else None) or reference.reference
    if member:
        data["patient_id"] = str(member)
        places["patient_id"] = f"{prefix}.patient"

    npi = None
    for field, kinds in (("provider", ("Practitioner", "Organization", "PractitionerRole")),):
        reference = getattr(claim, field)
        if reference is not None and reference.identifier is not None \
                and reference.identifier.system == _NPI_SYSTEM:
            npi = reference.identifier.value
        for kind_name in kinds:
            if npi:
                break
            resource = _resolve(reference, contained, index, kind_name)
            for identifier in getattr(resource, "identifier", None) or ():
                if identifier.system == _NPI_SYSTEM and identifier.value:
                    npi = identifier.value
                    break
    if npi:
        data["provider_id"] = str(npi)
        places["provider_id"] = f"{prefix}.provider"

    # Claim frequency (X12 CLM05-3): a cancelled claim voids (8), one that names the claim it
    # replaces (related.relationship "prior") is a replacement (7); else an original (1).
    if claim.status == "cancelled":
        data["frequency_code"] = "8"
    elif any(r.relationship is not None and any(c.code == "prior"
                                                for c in r.relationship.coding or ())
             for r in claim.related or ()):
        data["frequency_code"] = "7"


def _charge(item: Any, at: str) -> tuple[str | None, str]:
    """The item's charge: ``net``, else ``unitPrice`` x ``quantity`` (to the cent)."""
    if item.net is not None and item.net.value is not None:
        return str(item.net.value), f"{at}.net.value"
    if item.unitPrice is not None and item.unitPrice.value is not None:
        quantity = item.quantity.value if item.quantity is not None and \
            item.quantity.value is not None else Decimal(1)
        amount = (Decimal(item.unitPrice.value) * Decimal(quantity)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)  # half a cent up, as money is rounded
        return str(amount), f"{at}.unitPrice.value"
    return None, f"{at}.net"


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
        >>> denial = response.item[0].adjudication[1]
        >>> [c.code for c in denial.reason.coding], [e.valueCoding.code for e in denial.extension]
        (['96'], ['IGRT-MEDICARE-77387', 'N56'])
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
    if result.notes:  # items left out of the claim (no CPT/HCPCS code): said, not hidden
        data["processNote"] = [{"number": k, "type": "display", "text": f"{n.field}: {n.reason}"}
                               for k, n in enumerate(result.notes, 1)]
    return ClaimResponse.model_validate(data)


def _item(line: LineResult, position: int, result: ClaimResult) -> dict[str, Any]:
    # itemSequence must point at Claim.item.sequence (a positive integer): claimedit line ids
    # from FHIR and X12 are those numbers; any other line id falls back on the line's position.
    line_id = line.line_id or ""
    sequence = int(line_id) if line_id.isdigit() and 0 < int(line_id) < 2**31 else position
    version = f"{result.provenance.pack} {result.provenance.version}"
    adjudication: list[dict[str, Any]] = [
        {"category": {"coding": [{"system": DECISION_SYSTEM, "code": line.decision.value}]}}
    ]
    for reason in line.reasons:
        # A CodeableConcept's codings are one concept in several code systems, so the reason is
        # the CARC alone; the remark codes and the edit that fired ride on the same adjudication
        # as extensions (each its own meaning).
        extensions = [{"url": RULE_EXTENSION,
                       "valueCoding": {"system": RULE_SYSTEM, "version": version,
                                       "code": reason.rule_id}}]
        extensions += [{"url": RARC_EXTENSION,
                        "valueCoding": {"system": RARC_SYSTEM, "code": rarc}}
                       for rarc in reason.rarcs]
        adjudication.append({
            "extension": extensions,
            "category": {"coding": [{"system": GROUP_CODE_SYSTEM, "code": reason.group_code}],
                         "text": reason.decision.value},
            "reason": {"coding": [{"system": CARC_SYSTEM, "code": reason.carc}],
                       "text": reason.message},
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
