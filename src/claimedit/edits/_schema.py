"""The schema pieces every edit kind shares, and the code table they are compiled against.

Dates in force, citations, code sets, the code-table entry and :class:`EditBase` (id, decision,
remittance codes, citation, scope) live here, below the edit kinds and the pack loader, so that a
kind's module can hold its own model without importing the loader. :mod:`claimedit.pack.models`
re-exports them: rule-file models are read from one place.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from claimedit.claims import ClaimType, Payer, normalise_code, normalise_modifier
from claimedit.results import Decision

__all__ = [
    "ALWAYS",
    "Citation",
    "CodeEntry",
    "CodeSet",
    "Component",
    "DateRange",
    "EditBase",
    "Model",
    "code_value",
    "code_values",
    "modifier_values",
]


class Model(BaseModel):
    """Frozen, and unknown keys are refused: a misspelt key is a load-time error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Component(StrEnum):
    """The part of a service a line bills: modifier 26 = professional, TC = technical,
    neither = global (both parts). A line carrying 26 and TC together is both at once."""

    PROFESSIONAL = "professional"
    TECHNICAL = "technical"
    GLOBAL = "global"


class DateRange(Model):
    """Dates of service an item is in force, both ends inclusive; an open end is unbounded."""

    start: dt.date | None = Field(default=None, description="First date of service (inclusive).")
    end: dt.date | None = Field(default=None, description="Last date of service (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"inverted date range: end {self.end} is before start {self.start}")
        return self

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: DateRange) -> bool:
        return (self.start is None or other.end is None or self.start <= other.end) and (
            other.start is None or self.end is None or other.start <= self.end
        )

    def within(self, outer: DateRange) -> bool:
        if outer.start is not None and (self.start is None or self.start < outer.start):
            return False
        return outer.end is None or (self.end is not None and self.end <= outer.end)

    def __str__(self) -> str:
        if self.start is None and self.end is None:
            return "always"
        return f"{self.start or ''}..{self.end or ''}"


ALWAYS = DateRange()


class Citation(Model):
    """Where a rule comes from: the document, its section, and the sentence it encodes."""

    document: str = Field(description="E.g. 'IGRT reimbursement policy (rev. 2025-08-04)'.")
    section: str | None = Field(default=None, description="Section or heading of the document.")
    text: str = Field(description="The sentence (or fact) the rule encodes, quoted.")
    url: str | None = None
    confidence: Literal["high", "moderate", "unverified"] = Field(
        default="high",
        description="How well the fact is sourced: high = primary/CMS text, moderate = secondary.",
    )

    def __str__(self) -> str:
        where = self.document if self.section is None else f"{self.document}, {self.section}"
        sourced = "" if self.confidence == "high" else f" [{self.confidence} confidence]"
        return f'{where}: "{self.text}"{sourced}'


def code_value(value: Any) -> Any:
    # YAML reads an unquoted 77014 as a number, and 00100 as the octal number 64: a code written
    # without quotes cannot be trusted, so it is refused rather than guessed.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"write codes in quotes, e.g. \"77014\": YAML read this one as the "
                         f"number {value}")
    return normalise_code(value) if isinstance(value, str) else value


def code_values(value: Any) -> Any:
    return [code_value(item) for item in value] if isinstance(value, list) else value


class CodeSet(Model):
    """A set of codes named one by one, by code-table category, or both.

    A plain list is short for ``{codes: [...]}``.
    """

    codes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"codes": value} if isinstance(value, list) else value

    @field_validator("codes", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return code_values(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Tell editors about the list shorthand the validator accepts.
        schema = handler(core_schema)
        return {"anyOf": [schema, {"type": "array", "items": {"type": "string"},
                                   "description": "Shorthand for {codes: [...]}."}]}

    @model_validator(mode="after")
    def _not_empty(self) -> CodeSet:
        if not self.codes and not self.categories:
            raise ValueError("a code set needs at least one code or category")
        return self


class CodeEntry(Model):
    """One code of the code table, for one span of dates."""

    code: str
    label: str = Field(
        description="Our own short label (CPT descriptors are the AMA's copyright)."
    )
    category: str = Field(description="E.g. igrt, imrt_delivery, conventional_delivery.")
    modifier_26: bool = Field(description="May the code carry modifier 26 (professional)?")
    modifier_tc: bool = Field(description="May the code carry modifier TC (technical)?")
    effective: DateRange = ALWAYS
    source: str = Field(description="Where the code's dates and indicators come from.")

    @field_validator("code", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return code_value(value)


class EditBase(Model):
    """What every edit kind has: its id, decision, remittance codes, citation, and its scope
    (payer types, claim types, dates). A kind's model subclasses it and adds a ``kind``
    literal and its own keys (see :mod:`claimedit.edits`)."""

    id: str = Field(
        pattern=r"^[A-Z0-9][A-Z0-9-]*$", description="Stable id, e.g. IGRT-TC-BUNDLED-INTO-IMRT."
    )
    decision: Decision
    message: str = Field(description="For people; '{code}' is replaced by the line's code.")
    group_code: Literal["CO", "PR", "OA", "PI"]
    carc: str = Field(pattern=r"^[A-Z0-9]{1,4}$", description="CARC value, e.g. '97'.")
    rarcs: tuple[Annotated[str, Field(pattern=r"^[A-Z]{1,2}\d{1,4}$")], ...] = ()
    citation: Citation
    payers: tuple[Payer, ...] = Field(
        default=tuple(Payer), min_length=1,
        description="Payer types the edit applies to (default: all).",
    )
    claim_types: tuple[ClaimType, ...] = Field(
        default=tuple(ClaimType), min_length=1,
        description="Claim types the edit applies to: professional (837P), institutional "
                    "(837I); default: both.",
    )
    effective: DateRange | None = Field(
        default=None, description="Dates of service in force; default: the revision's."
    )

    @field_validator("carc", mode="before")
    @classmethod
    def _carc(cls, value: Any) -> Any:
        # CARCs are code values; YAML reads 97 as a number unless it is quoted.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def modifier_values(value: Any) -> Any:
    if isinstance(value, list):
        return [normalise_modifier(str(item)) if isinstance(item, str | int) else item
                for item in value]
    return value
