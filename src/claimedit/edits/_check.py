"""The compiled form every edit kind reduces to, and the code-table view compilers read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from claimedit.pack import SourcedEdit
from claimedit.pack.models import CodeEntry, CodeSet, Component
from claimedit.results import Reason

__all__ = ["Check", "CodeTable", "components_of", "reason_for"]

_ALL_COMPONENTS = frozenset(Component)


class Check(NamedTuple):
    """One edit compiled for one code: the conditions left to test on a line, and the reason
    (built once, shared by every line it fires on). ``None`` means "no condition"."""

    rule_id: str
    reason: Reason
    components: frozenset[str] | None = None
    """The line must bill one of these components."""
    modifiers_all: frozenset[str] | None = None
    """The line must carry all of these modifiers."""
    column1: frozenset[str] | None = None
    """Another line the same day must carry one of these codes."""
    bypass: frozenset[str] | None = None
    """A line carrying one of these modifiers is not subject to the edit."""


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


def components_of(components: Iterable[Component]) -> frozenset[str] | None:
    """The component condition of an edit; ``None`` when it covers every component."""
    chosen = frozenset(str(component) for component in components)
    return None if chosen == _ALL_COMPONENTS else chosen


def reason_for(item: SourcedEdit, code: str) -> Reason:
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
