"""What an edit kind is made of, the line facts a check may read, and the compiled check.

An edit kind (:class:`Kind`) is a model (the YAML shape), a compile step (an edit in force and
the code table of one date -> one :class:`Check` per code it watches), a predicate (does the
check fire on a line, given the line's :class:`Facts`), and a declaration of which facts the
predicate reads (:class:`Fact`). The engine derives from those declarations what it must gather
for a line and what its outcome memo is keyed on; the loader derives which keys of an edit are
code sets to check against the code table. Nothing outside the kind's module knows what the
kind means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from claimedit.edits._schema import CodeEntry, CodeSet, Component, EditBase
from claimedit.results import Reason

if TYPE_CHECKING:  # the loader imports the kinds, never the other way round
    from claimedit.pack.loader import SourcedEdit

__all__ = [
    "Check",
    "CodeTable",
    "Fact",
    "Facts",
    "Kind",
    "TableCheck",
    "TableCompile",
    "components_billed",
    "components_of",
    "reason_for",
]

_ALL_COMPONENTS = frozenset(Component)
_PROFESSIONAL = frozenset({str(Component.PROFESSIONAL)})
_TECHNICAL = frozenset({str(Component.TECHNICAL)})
_GLOBAL = frozenset({str(Component.GLOBAL)})
_BOTH = _PROFESSIONAL | _TECHNICAL


class Fact(StrEnum):
    """A fact about a line that a kind's predicate may read. The kind declares the ones it
    reads; the engine gathers only those and keys its outcome memo on them."""

    COMPONENTS = "components"
    """The components the line bills, from modifiers 26 / TC (global when neither)."""
    MODIFIERS = "modifiers"
    """Modifiers other than 26 / TC (each check names the ones it tests)."""
    UNITS = "units"
    """The line's units of service."""
    DAY_CODES = "day_codes"
    """The codes billed on the claim's other lines with the same date of service (each check
    names the ones it looks for)."""
    DAY_UNITS = "day_units"
    """Units of the line's code summed over the claim's lines with the same date of service."""
    CLAIM_TYPE = "claim_type"
    """Professional or institutional. Resolved when the pack is compiled (an index per claim
    type, as per payer type), so it never reaches a predicate or a memo key."""


class Facts(NamedTuple):
    """What the engine tells a predicate about one line. Facts the code's checks do not read
    are left at their neutral value (no modifiers, no codes, 0 units)."""

    modifiers: tuple[str, ...]
    """The line's modifiers, narrowed to those some check of the code tests."""
    components: frozenset[str]
    """``professional``, ``technical`` or ``global`` (26 with TC: both parts)."""
    units: int
    """The line's units, capped just above the largest limit a check tests."""
    day_codes: frozenset[str]
    """The watched codes billed on the claim's other lines that date of service."""
    day_units: int
    """Units of the line's code on the claim that date (its own included), capped likewise."""


class Check(NamedTuple):
    """One edit compiled for one code: its predicate with the edit's data bound in, what it
    reads, and the reason (built once, shared by every line it fires on)."""

    rule_id: str
    reason: Reason
    fires: Callable[[Facts], bool]
    """The kind's predicate, bound to this edit's data."""
    reads: frozenset[Fact]
    """The facts ``fires`` reads: the kind's declaration, or part of it (a unit limit of
    indicator 1 reads the line's units only)."""
    modifiers: frozenset[str] = frozenset()
    """With ``Fact.MODIFIERS``: the modifiers ``fires`` tests."""
    day_codes: frozenset[str] = frozenset()
    """With ``Fact.DAY_CODES``: the codes of other lines that day ``fires`` looks for."""
    units_cap: int = 0
    """With ``Fact.UNITS`` / ``Fact.DAY_UNITS``: any count at or above this one gives the same
    answer (a limit plus one), so the memo key stays bounded whatever the units billed."""


Compile = Callable[["SourcedEdit", "CodeTable"], Iterator[tuple[str, Check]]]

TableCheck = Callable[[str, tuple[str, ...], int, frozenset[str], int, int], tuple[Reason, ...]]
"""A table-backed edit's check of a line, for kinds whose codes are too many to compile into
the code index (a CMS table of two million pairs): ``(code, modifiers, date of service as
YYYYMMDD, the distinct codes billed that day on the claim (the line's own included), units,
the code's units that day) -> the reasons that fire``. The rows carry their own dates, so one
check serves every era; the engine calls it for every line of its scope."""
TableCompile = Callable[["SourcedEdit"], TableCheck]


def no_codes(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    """The compile step of a table-backed kind: no per-code checks (see ``Kind.table``)."""
    return iter(())


class Kind(NamedTuple):
    """An edit kind, as its module declares it (see :data:`claimedit.edits.KINDS`)."""

    name: str
    """The YAML ``kind`` keyword."""
    model: type[EditBase]
    compile: Compile
    reads: frozenset[Fact]
    code_sets: tuple[str, ...]
    """The keys of the kind's model that are code sets: the loader checks every code and
    category they name against the pack's code table."""
    code_rows: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Keys holding a table of rows, with the columns of each row that are codes (e.g.
    ``("pairs", ("column1", "column2"))``): the loader checks those codes too."""
    table: TableCompile | None = None
    """For a table-backed kind: builds its :data:`TableCheck` once per edit (``compile`` then
    yields nothing)."""


class CodeTable:
    """The code table as of one date of service: which entries are in force, and categories."""

    def __init__(self, entries: Iterable[CodeEntry], day: dt.date) -> None:
        entries = tuple(entries)
        self.in_force = {entry.code: entry for entry in entries if entry.effective.contains(day)}
        self._by_category: dict[str, set[str]] = {}
        for entry in entries:
            self._by_category.setdefault(entry.category, set()).add(entry.code)

    def expand(self, code_set: CodeSet) -> frozenset[str]:
        """The codes of a code set: those named, and every code of the named categories."""
        codes = set(code_set.codes)
        for category in code_set.categories:
            codes |= self._by_category.get(category, set())
        return frozenset(codes)


def components_billed(modifiers: tuple[str, ...]) -> frozenset[str]:
    """Modifier 26 bills the professional component and TC the technical one (CMS PC/TC
    rules); a line with neither bills the global service. The definition of the modifiers,
    not policy."""
    professional = "26" in modifiers
    technical = "TC" in modifiers
    if professional:
        return _BOTH if technical else _PROFESSIONAL
    return _TECHNICAL if technical else _GLOBAL


def components_of(components: Iterable[Component]) -> frozenset[str] | None:
    """The component condition of an edit; ``None`` when it covers every component."""
    chosen = frozenset(str(component) for component in components)
    return None if chosen == _ALL_COMPONENTS else chosen


def reason_for(item: SourcedEdit, code: str) -> Reason:
    """The reason an edit gives on a line of ``code``: built once per edit and code."""
    edit = item.edit
    return Reason(
        rule_id=edit.id,
        decision=edit.decision,
        message=edit.message.replace("{code}", code),
        group_code=edit.group_code,
        carc=edit.carc,
        rarcs=edit.rarcs,
        citation=str(edit.citation),
        source=item.source,
    )
