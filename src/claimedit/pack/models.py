"""The rule-pack schema: one frozen pydantic model per file shape and per edit kind.

Unknown keys are rejected everywhere (``extra="forbid"``), so a misspelt key in a rule file is a
load-time error, never a silently ignored condition. Edits are a discriminated union on ``kind``:
each kind has its own model and the error for a bad edit names the fields of that kind only.

The JSON Schemas under ``rules/schema/`` are generated from these models
(``python -m claimedit.pack.schema``) and a test keeps them in sync.
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

from claimedit.claims import Payer, normalise_code, normalise_modifier
from claimedit.results import Decision

__all__ = [
    "Citation",
    "CodeEntry",
    "CodeSet",
    "CodeTableFile",
    "CodeValidityEdit",
    "Component",
    "ComponentModifierEdit",
    "DateRange",
    "Edit",
    "EditsFile",
    "LineEdit",
    "PackFile",
    "ProcedureToProcedureEdit",
    "RevisionInfo",
    "StateOverlayFile",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Component(StrEnum):
    """The part of a service a line bills: modifier 26 = professional, TC = technical,
    neither = global (both parts). A line carrying 26 and TC together is both at once."""

    PROFESSIONAL = "professional"
    TECHNICAL = "technical"
    GLOBAL = "global"


class DateRange(_Model):
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


class Citation(_Model):
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


def _code(value: Any) -> Any:
    # YAML reads an unquoted 77014 as a number, and 00100 as the octal number 64: a code written
    # without quotes cannot be trusted, so it is refused rather than guessed.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"write codes in quotes, e.g. \"77014\": YAML read this one as the "
                         f"number {value}")
    return normalise_code(value) if isinstance(value, str) else value


def _codes(value: Any) -> Any:
    return [_code(item) for item in value] if isinstance(value, list) else value


class CodeSet(_Model):
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
        return _codes(value)

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


class CodeEntry(_Model):
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
        return _code(value)


class _EditBase(_Model):
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
    effective: DateRange | None = Field(
        default=None, description="Dates of service in force; default: the revision's."
    )

    @field_validator("carc", mode="before")
    @classmethod
    def _carc(cls, value: Any) -> Any:
        # CARCs are code values; YAML reads 97 as a number unless it is quoted.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class CodeValidityEdit(_EditBase):
    """Denies a code of ``codes`` when no code-table entry for it is in force on the date of
    service (not yet effective, or deleted).

    FAIL: G6001-26 on 2014-12-31 (G6001 effective 2015-01-01).
    PASS: G6001-26 on 2025-03-03.
    """

    kind: Literal["code_validity"]
    codes: CodeSet


class ComponentModifierEdit(_EditBase):
    """Fires when a line of ``codes`` carries modifier 26 or TC that its code-table entry does not
    allow (``modifier_26`` / ``modifier_tc``).

    FAIL: G6017-26 (G6017 takes neither 26 nor TC).
    PASS: G6001-26.
    """

    kind: Literal["component_modifier"]
    codes: CodeSet


class LineEdit(_EditBase):
    """Fires on a line of ``codes`` billing one of ``components`` and carrying every modifier
    of ``modifiers_all``; nothing else billed that day matters.

    FAIL (Medicare 77387 edit): medicare, 77387-26.
    PASS: commercial, 77387-TC with conventional delivery.
    """

    kind: Literal["line"]
    codes: CodeSet
    components: tuple[Component, ...] = Field(default=tuple(Component))
    modifiers_all: tuple[str, ...] = Field(
        default=(), description="Modifiers that must all be on the line for the edit to fire."
    )

    @field_validator("modifiers_all", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        return _modifiers(value)


class ProcedureToProcedureEdit(_EditBase):
    """An NCCI-style procedure-to-procedure edit: a ``column2`` line is bundled (or denied) when a
    ``column1`` code is billed on another line of the claim with the same date of service.

    ``modifier_indicator`` as in NCCI: 0 no modifier bypasses the edit; 1 a modifier of
    ``bypass_modifiers`` on the column-2 line bypasses it; 9 the edit is not in effect.
    ``components`` limits the edit to the column-2 line's component (e.g. only its TC).

    FAIL: 77385 + G6001-TC (the TC of IGRT is bundled into IMRT).
    PASS: 77385 + G6001-26.
    """

    kind: Literal["procedure_to_procedure"]
    column1: CodeSet
    column2: CodeSet
    components: tuple[Component, ...] = Field(default=tuple(Component))
    modifier_indicator: Literal[0, 1, 9]
    bypass_modifiers: tuple[str, ...] = Field(
        default=(), description="With indicator 1: NCCI-associated modifiers, e.g. 59, XE, XS."
    )

    @field_validator("bypass_modifiers", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        return _modifiers(value)

    @field_validator("modifier_indicator", mode="before")
    @classmethod
    def _indicator(cls, value: Any) -> Any:
        # NCCI files write the indicator as a character.
        return int(value) if isinstance(value, str) and value.isdigit() else value

    @model_validator(mode="after")
    def _bypass_matches_indicator(self) -> ProcedureToProcedureEdit:
        if self.modifier_indicator == 1 and not self.bypass_modifiers:
            raise ValueError("modifier_indicator 1 needs the bypass_modifiers that bypass it")
        if self.modifier_indicator != 1 and self.bypass_modifiers:
            raise ValueError("bypass_modifiers only apply with modifier_indicator 1")
        return self


def _modifiers(value: Any) -> Any:
    if isinstance(value, list):
        return [normalise_modifier(str(item)) if isinstance(item, str | int) else item
                for item in value]
    return value


Edit = Annotated[
    CodeValidityEdit | ComponentModifierEdit | LineEdit | ProcedureToProcedureEdit,
    Field(discriminator="kind"),
]


class HistoryEntry(_Model):
    type: str
    date: dt.date
    action: str


class Reference(_Model):
    title: str
    url: str | None = None


class PackFile(_Model):
    """``pack.yaml``: who issued the policy, its history, and the pack's own version."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    issuer: str
    version: str = Field(description="The pack's version; bump it when any rule file changes.")
    policy_url: str | None = None
    history: tuple[HistoryEntry, ...] = Field(description="The policy's documentation history.")
    references: tuple[Reference, ...] = ()


class CodeTableFile(_Model):
    """``codes.yaml``: the code table."""

    codes: tuple[CodeEntry, ...] = Field(min_length=1)


class RevisionInfo(_Model):
    """A revision of the pack: a set of edits in force over a span of dates of service."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    effective: DateRange
    citation: Citation


class EditsFile(_Model):
    """``edits/*.yaml``: one revision and its edits."""

    revision: RevisionInfo
    edits: tuple[Edit, ...] = Field(min_length=1)


class StateOverlayFile(_Model):
    """``states/<ST>.yaml``: a state exception. For claims whose ``state`` matches, over its
    dates, it switches pack edits off (``disable``), replaces them (``replace``: each edit names
    the id of a pack edit, and is in force only while the edit it replaces is) or adds new ones
    (``add``: ids the pack does not have). Naming the intent keeps a misspelt id from silently
    adding an edit next to the one it meant to replace."""

    state: str = Field(pattern=r"^[A-Z]{2}$")
    title: str
    effective: DateRange = ALWAYS
    citation: Citation
    disable: tuple[str, ...] = Field(default=(), description="Ids of pack edits to switch off.")
    replace: tuple[Edit, ...] = Field(default=(), description="Edits replacing pack edits.")
    add: tuple[Edit, ...] = Field(default=(), description="Edits the pack does not have.")
