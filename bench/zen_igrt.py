"""The IGRT decisions as a zen-engine decision table: the baseline of figure (d).

The JDM graph (input node -> one decision table, hit policy ``collect`` -> output node) is built
from the loaded rule pack, one or more rows per edit, so that the table and claimedit decide
from the same YAML. Each matching row outputs the edit's ``rule_id`` and ``decision``; a line's
decision is the most severe of its rows (``allow`` when none match), as in claimedit.

zen is given its inputs precomputed, outside the timed region, in the form it reads fastest: the
payer, the code, the component billed (from modifiers 26/TC), the date of service as a YYYYMMDD
integer, and one boolean per distinct column-1 code set ("a column-1 code is billed on another
line the same day"). claimedit computes all of that inside its timed evaluation, so the
comparison is generous to zen.

Modes measured (``MODES``): ``plain`` is the documented ``ZenDecision.evaluate`` per line;
``engine-call`` is ``ZenEngine.evaluate`` per line with a loader (the engine caches the decision);
``batch`` is ``ZenEngine.evaluate_batch``; ``loop`` runs the table in ``executionMode: loop``
over a chunk of lines in one call, with the context given as a dict or as JSON text.

Print the graph: ``python -m bench.zen_igrt > igrt.jdm.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import zen

from claimedit import Claim, Decision, Payer, RulePack
from claimedit.pack import SourcedEdit
from claimedit.pack.models import (
    CodeEntry,
    CodeSet,
    CodeValidityEdit,
    Component,
    ComponentModifierEdit,
    DateRange,
    LineEdit,
    ProcedureToProcedureEdit,
)

__all__ = ["MODES", "IgrtTable", "ZenRunner", "worst_decision"]

# A line's component as one value, so that a table cell can test it. Modifier 26 marks the
# professional component, TC the technical one, neither the global service; "both" is a line
# carrying 26 and TC at once, which is each of the two components (claimedit's _components()).
_COMPONENT_VALUES: dict[str, frozenset[str]] = {
    "professional": frozenset({Component.PROFESSIONAL}),
    "technical": frozenset({Component.TECHNICAL}),
    "global": frozenset({Component.GLOBAL}),
    "both": frozenset({Component.PROFESSIONAL, Component.TECHNICAL}),
}
_MODIFIER_COMPONENT = {"26": Component.PROFESSIONAL, "TC": Component.TECHNICAL}
_SEVERITY = {Decision.ALLOW.value: 0, Decision.BUNDLE.value: 1, Decision.DENY.value: 2}
_KEY = "igrt.json"

# (first day, last day) as YYYYMMDD integers; None is an open end.
_Span = tuple[int | None, int | None]


def _day(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _span(effective: DateRange) -> _Span:
    return (
        None if effective.start is None else _day(effective.start),
        None if effective.end is None else _day(effective.end),
    )


def _intersect(a: _Span, b: _Span) -> _Span | None:
    starts = [x for x in (a[0], b[0]) if x is not None]
    ends = [x for x in (a[1], b[1]) if x is not None]
    start = max(starts) if starts else None
    end = min(ends) if ends else None
    if start is not None and end is not None and start > end:
        return None
    return (start, end)


def _complement(ranges: Iterable[DateRange]) -> list[_Span]:
    """The spans of days on which none of the date ranges holds (a code not in force)."""
    lowest, highest = dt.date.min.toordinal(), dt.date.max.toordinal()
    covered = sorted(
        ((r.start or dt.date.min).toordinal(), (r.end or dt.date.max).toordinal()) for r in ranges
    )
    gaps: list[tuple[int, int]] = []
    cursor = lowest  # the first day not known to be covered
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, start - 1))
        cursor = max(cursor, end + 1)
    if cursor <= highest:
        gaps.append((cursor, highest))

    def bound(ordinal: int, open_end: int) -> int | None:
        return None if ordinal == open_end else _day(dt.date.fromordinal(ordinal))

    return [(bound(start, lowest), bound(end, highest)) for start, end in gaps]


def _date_cell(span: _Span) -> str:
    start, end = span
    if start is None and end is None:
        return ""
    if start is None:
        return f"<= {end}"
    if end is None:
        return f">= {start}"
    return f"[{start}..{end}]"


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(json.dumps(value) for value in sorted(values))


def _component_values(components: Iterable[Component], modifiers_all: Iterable[str] = ()) -> str:
    """The cell for "the line bills one of these components and carries these modifiers"."""
    wanted = frozenset(components)
    values = {name for name, billed in _COMPONENT_VALUES.items() if billed & wanted}
    for modifier in modifiers_all:
        if modifier not in _MODIFIER_COMPONENT:
            raise NotImplementedError(
                f"modifiers_all {modifier!r}: the table models 26 and TC only"
            )
        needed = _MODIFIER_COMPONENT[modifier]
        values = {name for name in values if needed in _COMPONENT_VALUES[name]}
    if values == set(_COMPONENT_VALUES):
        return ""
    return _quoted(values)


class IgrtTable:
    """The JDM decision table of a rule pack, and the per-line inputs it reads.

    Example:
        >>> from claimedit import load_pack
        >>> from claimedit.pack import packaged_rules_path
        >>> table = IgrtTable(load_pack(packaged_rules_path()))
        >>> table.jdm["nodes"][1]["type"]
        'decisionTableNode'
    """

    def __init__(self, pack: RulePack) -> None:
        if pack.overlays:
            raise NotImplementedError("state overlays are not modelled in the zen table")
        self._entries: dict[str, list[CodeEntry]] = {}
        self._by_category: dict[str, set[str]] = {}
        for entry in pack.codes:
            self._entries.setdefault(entry.code, []).append(entry)
            self._by_category.setdefault(entry.category, set()).add(entry.code)
        self.column1_sets: list[frozenset[str]] = []
        self._payers = frozenset(Payer)
        rows: list[dict[str, str]] = []
        for item in pack.edits:
            rows += _merged(self._rows(item))
        self.rows = len(rows)
        self.jdm = self._graph(rows)

    # -- building the table -------------------------------------------------------------------

    def _expand(self, code_set: CodeSet) -> list[str]:
        codes = set(code_set.codes)
        for category in code_set.categories:
            codes |= self._by_category.get(category, set())
        return sorted(codes)

    def _column1(self, codes: frozenset[str]) -> str:
        if codes not in self.column1_sets:
            self.column1_sets.append(codes)
        return f"c1_{self.column1_sets.index(codes)}"

    def _rows(self, item: SourcedEdit) -> list[dict[str, str]]:
        edit = item.edit
        in_force = _span(item.effective)
        base = {
            "payer": "" if frozenset(edit.payers) == self._payers else _quoted(edit.payers),
            "rule_id": json.dumps(edit.id),
            "decision": json.dumps(edit.decision.value),
        }
        rows: list[dict[str, str]] = []

        def add(codes: Iterable[str], span: _Span | None, **cells: str) -> None:
            if span is None:
                return  # never in force together
            rows.append({**base, "code": _quoted(codes), "day": _date_cell(span), **cells})

        if isinstance(edit, CodeValidityEdit):
            # Denied on the days when no code-table entry of the code is in force.
            for code in self._expand(edit.codes):
                spans = [entry.effective for entry in self._entries.get(code, [])]
                for gap in _complement(spans):
                    add([code], _intersect(in_force, gap))
        elif isinstance(edit, ComponentModifierEdit):
            # Only while the code is in force (otherwise it is code_validity's business).
            for code in self._expand(edit.codes):
                for entry in self._entries.get(code, []):
                    refused = []
                    if not entry.modifier_26:
                        refused.append(Component.PROFESSIONAL)
                    if not entry.modifier_tc:
                        refused.append(Component.TECHNICAL)
                    if refused:
                        add([code], _intersect(in_force, _span(entry.effective)),
                            component=_component_values(refused))
        elif isinstance(edit, LineEdit):
            add(self._expand(edit.codes), in_force,
                component=_component_values(edit.components, edit.modifiers_all))
        elif isinstance(edit, ProcedureToProcedureEdit):
            if edit.modifier_indicator == 9:
                return rows
            if edit.bypass_modifiers:
                raise NotImplementedError("bypass modifiers are not modelled in the zen table")
            column = self._column1(frozenset(self._expand(edit.column1)))
            add(self._expand(edit.column2), in_force,
                component=_component_values(edit.components), **{column: "true"})
        else:
            raise NotImplementedError(f"edit kind {edit.kind!r}")
        return rows

    def _graph(self, rows: list[dict[str, str]]) -> dict[str, Any]:
        # The code first: it rules out most rows for most lines.
        inputs = ["code", "day", "component", "payer"]
        inputs += [f"c1_{i}" for i in range(len(self.column1_sets))]
        outputs = ["rule_id", "decision"]
        table = {
            "hitPolicy": "collect",
            "inputs": [{"id": f"in_{name}", "name": name, "field": name} for name in inputs],
            "outputs": [{"id": f"out_{name}", "name": name, "field": name} for name in outputs],
            "rules": [
                {"_id": f"row_{n}",
                 **{f"in_{name}": row.get(name, "") for name in inputs},
                 **{f"out_{name}": row[name] for name in outputs}}
                for n, row in enumerate(rows, start=1)
            ],
        }
        return _graph_of(table)

    def looped(self) -> dict[str, Any]:
        """The same table run once per item of the context's ``lines``, into ``results``."""
        table = dict(self.jdm["nodes"][1]["content"])
        table.update({"inputField": "lines", "outputPath": "results", "executionMode": "loop"})
        return _graph_of(table)

    # -- the inputs ---------------------------------------------------------------------------

    def inputs(self, claims: Iterable[Claim]) -> list[dict[str, Any]]:
        """One context per claim line, in order: what the table reads (claimedit's same-day
        context: the other lines' codes that date, a line's own code only if billed twice)."""
        out: list[dict[str, Any]] = []
        for claim in claims:
            by_day: dict[dt.date, list[str]] = {}
            for line in claim.lines:
                by_day.setdefault(line.date_of_service, []).append(line.code)
            for line in claim.lines:
                codes = list(by_day[line.date_of_service])
                codes.remove(line.code)
                context = set(codes)
                modifiers = line.modifiers
                if "26" in modifiers:
                    component = "both" if "TC" in modifiers else "professional"
                else:
                    component = "technical" if "TC" in modifiers else "global"
                item: dict[str, Any] = {
                    "payer": claim.payer.value,
                    "code": line.code,
                    "component": component,
                    "day": _day(line.date_of_service),
                }
                for i, column1 in enumerate(self.column1_sets):
                    item[f"c1_{i}"] = not column1.isdisjoint(context)
                out.append(item)
        return out


def _merged(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One row per set of conditions, listing every code it holds for (as a person writing the
    table would: one row for "these 18 codes are deleted from 2026", not 18 rows)."""
    codes: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for row in rows:
        key = tuple(sorted((name, cell) for name, cell in row.items() if name != "code"))
        codes.setdefault(key, []).append(row["code"])
    return [{**dict(key), "code": ", ".join(cells)} for key, cells in codes.items()]


def _graph_of(table: dict[str, Any]) -> dict[str, Any]:
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request",
             "position": {"x": 0, "y": 0}},
            {"id": "igrt", "type": "decisionTableNode", "name": "IGRT edits",
             "position": {"x": 300, "y": 0}, "content": table},
            {"id": "response", "type": "outputNode", "name": "Response",
             "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "igrt", "type": "edge"},
            {"id": "e2", "sourceId": "igrt", "targetId": "response", "type": "edge"},
        ],
    }


def worst_decision(rows: Sequence[dict[str, Any]]) -> str:
    """The line's decision from its matching rows: the most severe, ``allow`` when none."""
    worst = Decision.ALLOW.value
    for row in rows:
        if _SEVERITY[row["decision"]] > _SEVERITY[worst]:
            worst = row["decision"]
    return worst


def _rows(result: object) -> list[dict[str, Any]]:
    # zen's stubs type every result as a dict; a ``collect`` table returns the list of rows.
    return result  # type: ignore[return-value]


# A prepared mode: call it to decide every prepared line; it returns the matching rows per line.
Prepared = Callable[[], list[list[dict[str, Any]]]]


class ZenRunner:
    """zen-engine loaded with the table, with each mode's input prepared ahead of timing."""

    def __init__(self, table: IgrtTable) -> None:
        graph = json.dumps(table.jdm)
        self._engine = zen.ZenEngine({"loader": lambda key: graph})
        self._decision = self._engine.create_decision(graph)
        self._looped = self._engine.create_decision(json.dumps(table.looped()))

    def prepare(self, mode: str, lines: list[dict[str, Any]], chunk: int = 1000) -> Prepared:
        """The callable for ``mode`` over ``lines`` (a chunk is the lines per ``loop`` call)."""
        if mode == "plain":
            evaluate = self._decision.evaluate
            return lambda: [_rows(evaluate(line)["result"]) for line in lines]
        if mode == "engine-call":
            engine_evaluate = self._engine.evaluate
            return lambda: [_rows(engine_evaluate(_KEY, line)["result"]) for line in lines]
        if mode == "batch":
            requests: list[zen.EvaluateBatchRequest] = [
                {"key": _KEY, "context": line} for line in lines
            ]
            batch = self._engine.evaluate_batch
            return lambda: [_rows(item["data"]["result"]) for item in batch(requests)]
        if mode in ("loop-dict", "loop-json"):
            chunks: list[Any] = [{"lines": lines[i:i + chunk]} for i in range(0, len(lines), chunk)]
            if mode == "loop-json":
                chunks = [json.dumps(item, separators=(",", ":")) for item in chunks]
            looped = self._looped.evaluate

            def run() -> list[list[dict[str, Any]]]:
                out: list[list[dict[str, Any]]] = []
                for context in chunks:
                    out += looped(context)["result"]["results"]
                return out

            return run
        raise ValueError(f"unknown zen mode {mode!r}")


MODES = ("plain", "engine-call", "batch", "loop-dict", "loop-json")
"""Every zen mode the benchmark measures; ``plain`` is the issue's per-call mode."""


if __name__ == "__main__":
    from claimedit import load_pack
    from claimedit.pack import packaged_rules_path

    json.dump(IgrtTable(load_pack(packaged_rules_path())).jdm, sys.stdout, indent=2)
    print()
