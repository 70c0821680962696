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
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from claimedit.results import ClaimError, FieldIssue

__all__ = ["Claim", "ClaimLine", "Payer", "issues_of", "parse_claim"]

# CPT category I (5 digits), category II/III (4 digits and a letter), HCPCS level II (a letter and
# 4 digits).
_CODE = re.compile(r"^(?:\d{4}[0-9A-Z]|[A-Z]\d{4})$")
# A CPT/HCPCS modifier is two alphanumeric characters (26, TC, 59, XS, LT, ...).
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_STATE = re.compile(r"^[A-Z]{2}$")


class Payer(StrEnum):
    """The payer type a line is judged under; parsed case-insensitively."""

    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"

    @classmethod
    def _missing_(cls, value: object) -> Payer | None:
        if isinstance(value, str):
            folded = value.strip().lower()
            for member in cls:
                if member.value == folded:
                    return member
        return None


def normalise_code(value: Any) -> Any:
    """Upper-case and strip a procedure code, then check its shape (5 characters)."""
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if not _CODE.match(code):
        raise ValueError(
            f"{value!r} is not a CPT or HCPCS code (5 characters: 5 digits, 4 digits and a "
            "letter, or a letter and 4 digits)"
        )
    return code


def normalise_modifier(value: Any) -> Any:
    """Upper-case and strip a modifier, then check its shape (2 characters)."""
    if not isinstance(value, str):
        return value
    modifier = value.strip().upper()
    if not _MODIFIER.match(modifier):
        raise ValueError(f"{value!r} is not a modifier (2 letters or digits, e.g. 26, TC, 59)")
    return modifier


def _identifier(value: Any) -> Any:
    # Claim and line numbers often arrive as JSON numbers; they are identifiers, not quantities.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Code = Annotated[str, Field(description="CPT or HCPCS code, normalised to upper case.")]


class ClaimLine(BaseModel):
    """One service line: a procedure code, its modifiers, its date of service and units.

    Example:
        >>> ClaimLine(code="g6001", modifiers=["26"], date_of_service="2025-03-03").modifiers
        ('26',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    line_id: str | None = Field(
        default=None, description="The submitter's line number; results use the position if absent."
    )
    code: Code
    modifiers: tuple[str, ...] = Field(
        default=(), max_length=4, description="Up to 4 modifiers, e.g. 26 (PC) or TC (TC)."
    )
    date_of_service: dt.date
    units: int = Field(default=1, ge=1, le=9999)

    @field_validator("line_id", mode="before")
    @classmethod
    def _line_id(cls, value: Any) -> Any:
        return _identifier(value)

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        return normalise_code(value)

    @field_validator("modifiers", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        if isinstance(value, str):
            # A single string is a common shape in CSV and hand-written JSON: "26" or "26,59".
            value = [part for part in re.split(r"[\s,;:]+", value) if part]
        if isinstance(value, list | tuple):
            return tuple(normalise_modifier(item) for item in value)
        return value

    @field_validator("date_of_service", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        # A date of service is a calendar date; a timestamp means the sender mapped the wrong field.
        if isinstance(value, dt.datetime):
            raise ValueError("a date of service is a date (YYYY-MM-DD), not a timestamp")
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
        return value


class Claim(BaseModel):
    """A claim: its id, the payer type, optionally the state, and its lines (at least one).

    Example:
        >>> claim = Claim(claim_id="C1", payer="medicare", lines=[
        ...     ClaimLine(code="77385", date_of_service="2025-03-03")])
        >>> len(claim.lines)
        1
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    claim_id: str = Field(min_length=1)
    payer: Payer
    state: str | None = Field(
        default=None, description="Two-letter state code; selects state exceptions of the pack."
    )
    lines: tuple[ClaimLine, ...] = Field(min_length=1)

    @field_validator("claim_id", mode="before")
    @classmethod
    def _claim_id(cls, value: Any) -> Any:
        return _identifier(value)

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        if isinstance(value, str):
            state = value.strip().upper()
            if not state:
                return None
            if not _STATE.match(state):
                raise ValueError(f"{value!r} is not a two-letter state code")
            return state
        return value


def issues_of(error: ValidationError) -> tuple[FieldIssue, ...]:
    """The field issues of a pydantic validation error, with dotted 0-based field paths."""
    issues = []
    for item in error.errors(include_url=False):
        field = ".".join(str(step) for step in item["loc"])
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        issues.append(FieldIssue(field, message))
    return tuple(issues)


def parse_claim(data: Any, *, source: str = "<python>", record: int = 1) -> Claim | ClaimError:
    """Validate one input record into a :class:`Claim`, or describe every problem with it.

    Example:
        >>> error = parse_claim({"claim_id": "C9", "payer": "tricare", "lines": []}, record=7)
        >>> [issue.field for issue in error.issues]
        ['payer', 'lines']
    """
    if isinstance(data, Claim):
        return data
    try:
        return Claim.model_validate(data)
    except ValidationError as exc:
        claim_id = data.get("claim_id") if isinstance(data, dict) else None
        return ClaimError(
            source, record, None if claim_id is None else str(claim_id), issues_of(exc)
        )
