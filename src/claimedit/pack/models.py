"""The rule-pack schema: one frozen pydantic model per file shape and per edit kind.

Unknown keys are rejected everywhere (``extra="forbid"``), so a misspelt key in a rule file is a
load-time error, never a silently ignored condition. Edits are a discriminated union on ``kind``:
each kind has its own model (in its module under :mod:`claimedit.edits`, re-exported here) and
the error for a bad edit names the fields of that kind only.

The JSON Schemas under ``rules/schema/`` are generated from these models
(``python -m claimedit.pack.schema``) and a test keeps them in sync.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from claimedit.edits import (
    CodeValidityEdit,
    ComponentModifierEdit,
    Edit,
    LineEdit,
    ProcedureToProcedureEdit,
)
from claimedit.edits._schema import (
    ALWAYS,
    Citation,
    CodeEntry,
    CodeSet,
    Component,
    DateRange,
    EditBase,
    Model,
)

__all__ = [
    "ALWAYS",
    "Citation",
    "CodeEntry",
    "CodeSet",
    "CodeTableFile",
    "CodeValidityEdit",
    "Component",
    "ComponentModifierEdit",
    "DateRange",
    "Edit",
    "EditBase",
    "EditsFile",
    "LineEdit",
    "PackFile",
    "ProcedureToProcedureEdit",
    "RevisionInfo",
    "StateOverlayFile",
]


class HistoryEntry(Model):
    type: str
    date: dt.date
    action: str


class Reference(Model):
    title: str
    url: str | None = None


class PackFile(Model):
    """``pack.yaml``: who issued the policy, its history, and the pack's own version."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    issuer: str
    version: str = Field(description="The pack's version; bump it when any rule file changes.")
    policy_url: str | None = None
    history: tuple[HistoryEntry, ...] = Field(description="The policy's documentation history.")
    references: tuple[Reference, ...] = ()


class CodeTableFile(Model):
    """``codes.yaml``: the code table."""

    codes: tuple[CodeEntry, ...] = Field(min_length=1)


class RevisionInfo(Model):
    """A revision of the pack: a set of edits in force over a span of dates of service."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    effective: DateRange
    citation: Citation


class EditsFile(Model):
    """``edits/*.yaml``: one revision and its edits."""

    revision: RevisionInfo
    edits: tuple[Edit, ...] = Field(min_length=1)


class StateOverlayFile(Model):
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
