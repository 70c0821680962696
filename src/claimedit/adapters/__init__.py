"""Adapters: claims from the formats of the trade, and results back into them.

==========================  =================================================  ============
module                      what                                               extra
==========================  =================================================  ============
:mod:`~.fhir`               HL7 FHIR R4 Claim in, ClaimResponse out            ``fhir``
:mod:`~.x12`                X12 837P/837I in, 835-style CAS/LQ data out        ``x12``
:mod:`~.frame`              pandas / pyarrow tables of claim lines             ``frame``
==========================  =================================================  ============

Each adapter sits behind its own extra so that the core needs only pydantic and PyYAML; this
package itself imports nothing optional. Importing an adapter whose extra is missing raises
:class:`MissingExtraError`, which names the extra to install.

Readers yield the same :class:`~claimedit.inputs.Record` stream as the JSON and CSV readers: a
claim dict in claimedit's own JSON shape, or a :class:`~claimedit.results.ClaimError` naming the
file, the record and the place *in the source format* (``Claim.item[1].productOrService``,
``2400[2] SV101-2 (segment 26)``), so that an analyst can find the fault in the file they hold.

Example:
    >>> str(MissingExtraError("x12", "reading X12 837 files"))  # doctest: +ELLIPSIS
    "reading X12 837 files needs the optional 'x12' extra: pip install 'claimedit[x12]'"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from claimedit.claims import Payer, parse_claim
from claimedit.inputs import Record
from claimedit.results import ClaimError, FieldIssue

__all__ = ["MissingExtraError", "PayerMap"]


class PayerMap(BaseModel):
    """How claims in other formats are assigned a payer type: overrides of the adapters'
    documented defaults, e.g. loaded from the YAML file of ``claimedit check --payer-map``.

    Which edits a Medicare Advantage or a TRICARE claim is judged under is the plan's decision,
    so it is data, merged over the defaults (:data:`claimedit.adapters.x12.CLAIM_FILING_INDICATORS`,
    :data:`claimedit.adapters.fhir.PAYER_TYPES`).

    Example:
        >>> PayerMap.model_validate({"x12_claim_filing_indicators": {"16": "Commercial"}})
        PayerMap(x12_claim_filing_indicators={'16': <Payer.COMMERCIAL: 'commercial'>}, ...)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    x12_claim_filing_indicators: dict[str, Payer] = Field(
        default_factory=dict, description="SBR09 claim filing indicator -> payer type."
    )
    fhir_payer_types: dict[str, dict[str, Payer]] = Field(
        default_factory=dict,
        description="Coverage.type coding system -> code (or code prefix) -> payer type.",
    )
    fhir_insurers: dict[str, Payer] = Field(
        default_factory=dict,
        description="Claim.insurer reference, identifier or display -> payer type.",
    )
    fhir_default_payer: Payer | None = Field(
        default=None, description="Payer type of a FHIR Claim nothing else decides."
    )

    @field_validator("x12_claim_filing_indicators", "fhir_payer_types", "fhir_insurers",
                     mode="before")
    @classmethod
    def _codes_are_quoted(cls, value: Any) -> Any:
        # YAML reads an unquoted `16:` as the number 16 (and `0100:` as the octal 64): refused
        # with the rule-pack loader's advice rather than pydantic's "should be a valid string".
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(key, int | float) and not isinstance(key, bool):
                    raise ValueError(f'write the code in quotes, e.g. "{key}": YAML read the key '
                                     f"{key} as a number")
                if isinstance(inner, dict):
                    cls._codes_are_quoted(inner)
        return value

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self if value)
        return f"PayerMap({shown}, ...)"


class MissingExtraError(ImportError):
    """An adapter's optional dependencies are not installed; the message says which extra.

    Example:
        >>> MissingExtraError("fhir", "FHIR support").extra
        'fhir'
    """

    def __init__(self, extra: str, feature: str, cause: ImportError | None = None) -> None:
        self.extra = extra
        # The import that failed is named too: an extra can be installed and still broken
        # (a worker process on another interpreter, a wheel for another platform).
        because = f" ({cause})" if cause is not None else ""
        super().__init__(
            f"{feature} needs the optional {extra!r} extra: pip install 'claimedit[{extra}]'"
            + because
        )


def error_record(source: str, number: int, field: str, reason: str) -> Record:
    """A record that could not be read as a claim, with one fault at ``field``."""
    return Record(source, number, ClaimError(source, number, None, (FieldIssue(field, reason),)))


def located(
    data: dict[str, Any], places: Mapping[str, str], source: str, record: int
) -> dict[str, Any] | ClaimError:
    """Validate a claim dict built by an adapter; on failure, name each fault by its place in
    the source format rather than by claimedit's field path.

    ``places`` maps a claimedit field path prefix (``lines.1.code``, ``payer``) to the source
    place (``Claim.item[1].productOrService``). The longest matching prefix wins and the rest
    of the path is kept (``lines.1.modifiers.0`` -> ``Claim.item[1].modifier`` + ``.0``).
    The dict itself is returned when valid: the core parses it again, which costs microseconds
    and keeps the reader output in claimedit's own JSON shape.
    """
    parsed = parse_claim(data, source=source, record=record)
    if not isinstance(parsed, ClaimError):
        return data
    issues = tuple(FieldIssue(_place(issue.field, places), issue.reason) for issue in parsed.issues)
    return parsed._replace(issues=issues)


def _place(field: str, places: Mapping[str, str]) -> str:
    steps = field.split(".")
    for size in range(len(steps), 0, -1):
        place = places.get(".".join(steps[:size]))
        if place is not None:
            rest = steps[size:]
            return place + "".join(f"[{step}]" for step in rest)
    return field
