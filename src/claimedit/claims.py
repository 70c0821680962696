"""Input models: a claim, its lines, and the payer type.

Claims arrive from many places (our JSON, CSV rows, FHIR, X12), so the models normalise what
people really send: codes and modifiers in any case with stray spaces, payer names in any case,
dates as ISO strings. Everything downstream sees one clean, frozen shape.

Example:
    >>> from claimedit import Claim
    >>> claim = Claim.model_validate({"claim_id": "C1", "payer": "Medicaid", "lines": [
    ...     {"code": " g6001 ", "modifiers": ["tc"], "date_of_service": "2025-03-03"}]})
    >>> claim.payer, claim.lines[0].code, claim.lines[0].modifiers
    (<Payer.MEDICAID: 'medicaid'>, 'G6001', ('TC',))
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import core_schema, from_json

from claimedit.limits import (
    MAX_CLAIM_LINES,
    MAX_ERROR_TEXT,
    MAX_ID,
    MAX_ISSUES,
    MAX_QUOTED,
    cap_field,
    cap_reason,
    quote,
)
from claimedit.results import ClaimError, FieldIssue

__all__ = ["Claim", "ClaimLine", "ClaimType", "Payer", "issues_of", "parse_claim"]

# CPT category I (5 digits), category II/III (4 digits and a letter), HCPCS level II (a letter and
# 4 digits).
_CODE = re.compile(r"^(?i:\d{4}[0-9A-Z]|[A-Z]\d{4})$")
# A CPT/HCPCS modifier is two alphanumeric characters (26, TC, 59, XS, LT, ...).
_MODIFIER = re.compile(r"^(?i:[0-9A-Z]{2})$")
_STATE = re.compile(r"^[A-Z]{2}$")


class _FoldedEnum(StrEnum):
    """A str enum read case-insensitively, surrounding spaces ignored ("Medicare ")."""

    @classmethod
    def _missing_(cls, value: object) -> _FoldedEnum | None:
        if isinstance(value, str):
            folded = value.strip().lower()
            for member in cls:
                if member.value == folded:
                    return member
        return None


class Payer(_FoldedEnum):
    """The payer type a line is judged under; parsed case-insensitively."""

    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"


class ClaimType(_FoldedEnum):
    """The kind of claim: ``professional`` (837P / CMS-1500, a practitioner's bill) or
    ``institutional`` (837I / UB-04, a hospital outpatient department's bill). NCCI keeps
    separate tables for the two; edits may be scoped to one. Parsed case-insensitively."""

    PROFESSIONAL = "professional"
    INSTITUTIONAL = "institutional"


def normalise_code(value: Any) -> Any:
    """Upper-case and strip a procedure code, then check its shape (5 characters)."""
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if not _CODE.fullmatch(code):
        raise ValueError(
            f"{quote(value)} is not a CPT or HCPCS code (5 characters: 5 digits, 4 digits and a "
            "letter, or a letter and 4 digits)"
        )
    return code


def normalise_modifier(value: Any) -> Any:
    """Upper-case and strip a modifier, then check its shape (2 characters)."""
    if not isinstance(value, str):
        return value
    modifier = value.strip().upper()
    if not _MODIFIER.fullmatch(modifier):
        raise ValueError(f"{quote(value)} is not a modifier (2 letters or digits, e.g. 26, TC, 59)")
    return modifier


class _DateOfService:
    """A calendar date: a ``date`` object, or an ISO ``YYYY-MM-DD`` string.

    Numbers are refused: pydantic's lax dates would read 19700101-style integers and epoch
    seconds as dates, and a feed that sends CCYYMMDD as a number must fail loudly, not be
    misread. Validation stays inside pydantic-core (no Python call per line).
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Text must look like a date: pydantic alone would read "1740960000" as epoch seconds.
        text = core_schema.chain_schema([
            core_schema.str_schema(strip_whitespace=True, pattern=r"^\s*\d{4}-\d{2}-\d{2}\s*$"),
            core_schema.date_schema(),
        ])
        # Errors are worded for people by issues_of(), whichever branch failed.
        return core_schema.json_or_python_schema(
            json_schema=text,
            # From Python, a date object (a datetime is not a date of service) or the same text.
            python_schema=core_schema.union_schema([core_schema.date_schema(strict=True), text]),
        )


Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=_CODE.pattern),
    Field(description="CPT or HCPCS code, normalised to upper case."),
]
Modifier = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=_MODIFIER.pattern)
]
DateOfService = Annotated[dt.date, _DateOfService]

# Fields whose errors get a message for people instead of a regular expression or a union's
# branch-by-branch report.
_FIELD_MESSAGES = {
    "code": "is not a CPT or HCPCS code (5 characters: 5 digits, 4 digits and a letter, "
            "or a letter and 4 digits)",
    "modifiers": "is not a modifier (2 letters or digits, e.g. 26, TC, 59)",
    "date_of_service": "is not a date of service (a real calendar date written YYYY-MM-DD)",
}


class ClaimLine(BaseModel):
    """One service line: a procedure code, its modifiers, its date of service and units.

    Validation runs inside pydantic-core: codes and modifiers are stripped, upper-cased and
    checked against their shape without a Python call per line.

    Example:
        >>> ClaimLine(code="g6001 ", modifiers=["26"], date_of_service="2025-03-03").code
        'G6001'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    line_id: str | None = Field(
        default=None, max_length=MAX_ID,
        description="The submitter's line number; results use the position if absent.",
    )
    code: Code
    modifiers: tuple[Modifier, ...] = Field(
        default=(), max_length=4, description="Up to 4 modifiers, e.g. 26 (PC) or TC (TC)."
    )
    date_of_service: DateOfService
    units: int = Field(default=1, ge=1, le=9999)
    charge: Decimal | None = Field(
        default=None, ge=0, max_digits=12, decimal_places=2,
        description="The line's billed charge (X12 SV102 / SV203), when known.",
    )


class Claim(BaseModel):
    """A claim: its id, the payer type, optionally the state, and its lines (at least one).

    Example:
        >>> claim = Claim(claim_id="C1", payer="medicare", lines=[
        ...     ClaimLine(code="77385", date_of_service="2025-03-03")])
        >>> len(claim.lines)
        1
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True
    )

    claim_id: str = Field(min_length=1, max_length=MAX_ID)
    payer: Payer
    state: str | None = Field(
        default=None, description="Two-letter state code; selects state exceptions of the pack."
    )
    lines: tuple[ClaimLine, ...] = Field(
        min_length=1, max_length=MAX_CLAIM_LINES,
        description="The service lines: at least one, at most 100,000 (a bound on one record's "
                    "work, far above X12's 50 or 999).",
    )
    claim_type: ClaimType = Field(
        default=ClaimType.PROFESSIONAL,
        description="professional (837P, the default) or institutional (837I).",
    )
    patient_id: str | None = Field(
        default=None, min_length=1, max_length=80,
        description="The patient (member or patient id); with provider_id, keys claim history.",
    )
    provider_id: str | None = Field(
        default=None, min_length=1, max_length=80,
        description="The billing provider (NPI where known).",
    )
    frequency_code: str = Field(
        default="1", pattern=r"^[1-9]$",
        description="Claim frequency (X12 CLM05-3): 1 original, 7 replacement, 8 void.",
    )

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        if isinstance(value, str):
            state = value.strip().upper()
            if not state:
                return None
            if not _STATE.match(state):
                raise ValueError(f"{quote(value)} is not a two-letter state code")
            return state
        return value


def issues_of(error: ValidationError) -> tuple[FieldIssue, ...]:
    """The field issues of a pydantic validation error, with dotted 0-based field paths.

    Each issue carries pydantic's error type as its slug. Values are quoted only when short
    (:func:`claimedit.limits.quote`), never for a patient identifier; keys that came from the
    input are shown only when short; at most :data:`~claimedit.limits.MAX_ISSUES` issues are
    listed (within :data:`~claimedit.limits.MAX_ERROR_TEXT` characters), the rest counted.
    """
    errors = error.errors(include_url=False)
    # A list whose items all failed also reports itself too short; the item errors say it all.
    failed_lists = {
        item["loc"][:position] for item in errors
        for position, step in enumerate(item["loc"]) if isinstance(step, int)
    }
    issues: dict[str, FieldIssue] = {}
    budget, left_out = MAX_ERROR_TEXT, 0
    for item in errors:
        kind, loc = item["type"], item["loc"]
        if kind == "too_short" and loc in failed_lists:
            continue
        # A union (the date of service) reports each branch it tried under a branch name.
        loc = tuple(step for step in loc if not (isinstance(step, str) and "[" in step))
        loc = loc[: loc.index("date_of_service") + 1] if "date_of_service" in loc else loc
        field = cap_field(".".join(_step(step) for step in loc))
        if field in issues:
            continue  # one issue a field: the first branch's words
        message = item["msg"].removeprefix("Value error, ")
        named = next((step for step in reversed(loc) if step in _FIELD_MESSAGES), None)
        # A patient identifier is never repeated, however short.
        shown = "the value" if any(step in _PATIENT_FIELDS for step in loc) \
            else quote(item.get("input"))
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "missing: this field is required"
        elif named == "date_of_service" or (named and kind == "string_pattern_mismatch"):
            message = f"{shown} {_FIELD_MESSAGES[str(named)]}"
            kind = _FIELD_TYPES[str(named)]  # one slug whichever branch of the field failed
        elif kind in ("enum", "int_parsing", "string_type"):
            message = f"{shown}: {message}"
        elif kind == "json_invalid":
            message = f"not JSON: {item.get('ctx', {}).get('error', message)}"
        elif kind == "too_short" and loc == ("lines",):
            message = "a claim needs at least one line"
        message = cap_reason(message)
        budget -= len(field) + len(message)
        if len(issues) >= MAX_ISSUES or budget < 0:
            left_out += 1
            continue
        issues[field] = FieldIssue(field, message, kind)
    if left_out:
        issues[""] = FieldIssue("", f"and {left_out:,} more problems not listed", "too_many_issues")
    return tuple(issues.values())


def _step(step: str | int) -> str:
    """One step of a field path; an input key too long to repeat is described instead."""
    if isinstance(step, str) and len(step) > MAX_QUOTED:
        return f"<a key of {len(step):,} characters>"
    return str(step)


_PATIENT_FIELDS = frozenset({"patient_id"})
_FIELD_TYPES = {"code": "code_invalid", "modifiers": "modifier_invalid",
                "date_of_service": "date_of_service_invalid"}


def parse_claim(data: Any, *, source: str = "<python>", record: int = 1) -> Claim | ClaimError:
    """Validate one input record into a :class:`Claim`, or describe every problem with it.

    ``data`` is a :class:`Claim`, a mapping, or the JSON text of a claim (``str`` or ``bytes``):
    JSON text is parsed and validated in one pass inside pydantic-core, the fast path for JSON
    Lines.

    Example:
        >>> error = parse_claim({"claim_id": "C9", "payer": "tricare", "lines": []}, record=7)
        >>> [issue.field for issue in error.issues]
        ['payer', 'lines']
    """
    if isinstance(data, Claim):
        return data
    try:
        if isinstance(data, str | bytes):
            return Claim.model_validate_json(data)
        return Claim.model_validate(data)
    except ValidationError as exc:
        if isinstance(data, str | bytes):
            try:
                # Only to name the claim in the error. pydantic-core's parser, not json.loads:
                # it has the same depth and number limits as the validation that just failed
                # (json.loads recurses until RecursionError on a deeply nested record).
                data = from_json(data)
            except ValueError:
                data = None
        claim_id = data.get("claim_id") if isinstance(data, dict) else None
        return ClaimError(source, record, error_claim_id(claim_id), issues_of(exc))


def error_claim_id(value: Any) -> str | None:
    """The claim id an error record names: the id as given when it is text (or a number) of
    at most :data:`~claimedit.limits.MAX_ID` characters, else ``None`` (a 20 MB "claim id"
    is not repeated; the record number still names the record)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = value if isinstance(value, str) else quote(value)
    return text if len(text) <= MAX_ID else None
