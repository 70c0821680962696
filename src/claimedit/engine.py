"""The engine: a rule pack compiled once, evaluating a line, a claim or a stream of claims.

Compilation turns the pack into, for every span of dates over which nothing changes (an *era*),
every state variant (the base pack and each state overlay) and every payer type, a dictionary from
procedure code to the checks that can fire on it. Evaluating a line is then a binary search on
the date of service and a few dictionary look-ups; lines whose code no edit watches cost one
look-up. The YAML stays the only source of truth: the compiled tables are rebuilt from it on load
and on unpickling.

Example:
    >>> import claimedit
    >>> engine = claimedit.load_engine()
    >>> result = engine.evaluate({"claim_id": "C1", "payer": "commercial", "lines": [
    ...     {"line_id": "1", "code": "77385", "date_of_service": "2025-03-03"},
    ...     {"line_id": "2", "code": "G6001", "modifiers": ["TC"],
    ...      "date_of_service": "2025-03-03"}]})
    >>> [line.decision.value for line in result.lines]
    ['allow', 'bundle']
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

from claimedit._version import __version__
from claimedit.claims import Claim, ClaimLine, Payer, normalise_code, parse_claim
from claimedit.edits import COMPILERS, Check, CodeTable
from claimedit.history.judge import judge, judge_stream
from claimedit.history.store import HistoryStore
from claimedit.pack import RulePack, SourcedEdit, load_pack, packaged_rules_path
from claimedit.pack.models import Component
from claimedit.results import (
    SEVERITY,
    ClaimError,
    ClaimResult,
    Decision,
    FieldIssue,
    LineResult,
    Provenance,
    Reason,
)

__all__ = ["Engine", "InvalidClaimError", "load_engine"]

_ALLOW = Decision.ALLOW
_SEVERITY = SEVERITY
_NO_REASONS: tuple[Reason, ...] = ()
_NO_CODES: frozenset[str] = frozenset()
# NamedTuple's generated __new__ takes keywords and costs a Python frame; tuple.__new__ with the
# fields in order builds the same object several times faster on the per-line path.
_new_result = tuple.__new__

# Modifier 26 marks the professional component and TC the technical one (CMS PC/TC rules); a line
# with neither bills the global service. These are the definition of the modifiers, not policy.
_PROFESSIONAL = frozenset({str(Component.PROFESSIONAL)})
_TECHNICAL = frozenset({str(Component.TECHNICAL)})
_GLOBAL = frozenset({str(Component.GLOBAL)})
_BOTH = _PROFESSIONAL | _TECHNICAL
_COMPONENT_MODIFIERS = frozenset({"26", "TC"})

_MEMO_LIMIT = 4096


class _CodeRules:
    """The checks compiled for one code (in one era, state variant and payer type), and a memo
    of their outcomes.

    A line's outcome depends only on the modifiers these checks test (26, TC, their
    ``modifiers_all`` and bypass modifiers) and on which column-1 codes of these checks are
    billed on other lines that day, so it is computed once per such combination and shared.
    The memo is derived data: filling it twice from two threads stores the same value, it is
    keyed on the tested modifiers only and capped (a stream of other modifiers, GC, KX, 76 ...,
    cannot multiply it), and it is not pickled (the engine recompiles from the pack).
    """

    __slots__ = ("checks", "column1", "memo", "tested")

    def __init__(self, checks: tuple[Check, ...]) -> None:
        self.checks = checks
        column1 = frozenset().union(*(c.column1 for c in checks if c.column1 is not None))
        self.column1: frozenset[str] | None = column1 or None
        self.tested = _COMPONENT_MODIFIERS.union(
            *(c.modifiers_all for c in checks if c.modifiers_all is not None),
            *(c.bypass for c in checks if c.bypass is not None),
        )
        self.memo: dict[tuple[tuple[str, ...], frozenset[str]],
                        tuple[Decision, tuple[Reason, ...]]] = {}

    def outcome(
        self, modifiers: tuple[str, ...], context: frozenset[str]
    ) -> tuple[Decision, tuple[Reason, ...]]:
        if modifiers and not self.tested.issuperset(modifiers):
            modifiers = tuple([modifier for modifier in modifiers if modifier in self.tested])
        key = (modifiers, context)
        found = self.memo.get(key)
        if found is None:
            found = _decide(self.checks, modifiers, context)
            if len(self.memo) < _MEMO_LIMIT:
                self.memo[key] = found
        return found


# code -> its rules, for one era, state variant and payer type
_CodeIndex = dict[str, _CodeRules]


class InvalidClaimError(ValueError):
    """The input is not a valid claim. ``error`` names the record and every field at fault."""

    def __init__(self, error: ClaimError) -> None:
        self.error = error
        super().__init__(str(error))


def _components(modifiers: tuple[str, ...]) -> frozenset[str]:
    professional = "26" in modifiers
    technical = "TC" in modifiers
    if professional:
        return _BOTH if technical else _PROFESSIONAL
    return _TECHNICAL if technical else _GLOBAL


class Engine:
    """A compiled rule pack. Immutable: share one between threads, pickle it to processes.

    Build it with :func:`load_engine`. See :meth:`evaluate`, :meth:`evaluate_line` and
    :meth:`evaluate_many`.
    """

    __slots__ = ("_base", "_boundaries", "_pack", "_provenance", "_tables")

    def __init__(self, pack: RulePack) -> None:
        self._pack = pack
        self._provenance = Provenance(
            pack.meta.id, pack.meta.version, pack.content_hash, __version__
        )
        boundaries, tables = _compile(pack)
        self._boundaries = boundaries
        self._base = tables[None]
        self._tables = tables  # set last: from here on the engine refuses changes

    def __reduce__(self) -> tuple[type[Engine], tuple[RulePack]]:
        # The compiled tables are derived data: ship the validated pack and recompile.
        return (Engine, (self._pack,))

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_tables"):
            raise AttributeError("an Engine is immutable")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError("an Engine is immutable")

    @property
    def pack(self) -> RulePack:
        """The validated rule pack this engine was compiled from."""
        return self._pack

    @property
    def provenance(self) -> Provenance:
        """Pack id, version and content hash, as stamped on every result."""
        return self._provenance

    def __repr__(self) -> str:
        p = self._provenance
        return f"<Engine {p.pack} {p.version} {p.content_hash[:19]}>"

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(
        self, claim: Claim | Mapping[str, Any], *, history: HistoryStore | None = None
    ) -> ClaimResult:
        """Evaluate every line of a claim (a :class:`Claim` or a plain dict).

        With ``history`` (a claim history store, see :func:`claimedit.open_history`), lines of
        the patient's earlier claims from the same provider on the same date of service count as
        billed that day; the claim is then recorded, and ``adjustments`` lists earlier lines
        whose decision it changes (``docs/history.md``). The engine holds no store: pass it in.

        Raises :class:`InvalidClaimError` when a dict is not a valid claim.

        Example:
            >>> engine = load_engine()
            >>> engine.evaluate({"claim_id": "C2", "payer": "medicare", "lines": [
            ...     {"code": "77387", "date_of_service": "2025-03-03"}]}).lines[0].decision
            <Decision.DENY: 'deny'>
        """
        if not isinstance(claim, Claim):
            parsed = parse_claim(claim)
            if isinstance(parsed, ClaimError):
                raise InvalidClaimError(parsed)
            claim = parsed
        if history is not None:
            valid = claim
            return history.transact(lambda session: judge(self, valid, session))
        return self._evaluate(claim)

    def evaluate_line(
        self,
        line: ClaimLine | Mapping[str, Any],
        *,
        payer: Payer | str,
        same_day_codes: Iterable[str] = (),
        state: str | None = None,
    ) -> LineResult:
        """Evaluate one line, given the payer type and the codes of the other lines billed the
        same date of service (the context a claim would give).

        Example:
            >>> import datetime as dt
            >>> engine = load_engine()
            >>> engine.evaluate_line(
            ...     ClaimLine(code="G6001", modifiers=["TC"], date_of_service=dt.date(2025, 3, 3)),
            ...     payer="commercial", same_day_codes=["77386"]).decision
            <Decision.BUNDLE: 'bundle'>
        """
        # One path for all: the line is checked as a one-line claim, and the context is given.
        parsed = parse_claim(
            {"claim_id": "-", "payer": payer, "state": state, "lines": [line]}
        )
        if isinstance(parsed, ClaimError):
            raise InvalidClaimError(parsed)
        context = _same_day_context(same_day_codes)
        line = parsed.lines[0]
        rules = self._index(parsed.payer, parsed.state, line.date_of_service).get(line.code)
        decision, reasons = (_ALLOW, _NO_REASONS) if rules is None else _decide(
            rules.checks, line.modifiers, context)
        return _new_result(LineResult, (
            line.line_id or "1", line.code, line.modifiers, line.date_of_service, decision, reasons,
        ))

    @overload
    def evaluate_many(
        self, claims: Iterable[Claim | Mapping[str, Any]], *, errors: Literal["raise"] = "raise",
        history: HistoryStore | None = None, batch_size: int = 256,
    ) -> Iterator[ClaimResult]: ...

    @overload
    def evaluate_many(
        self, claims: Iterable[Claim | Mapping[str, Any]], *, errors: Literal["collect"],
        history: HistoryStore | None = None, batch_size: int = 256,
    ) -> Iterator[ClaimResult | ClaimError]: ...

    def evaluate_many(
        self, claims: Iterable[Claim | Mapping[str, Any]], *, errors: str = "raise",
        history: HistoryStore | None = None, batch_size: int = 256,
    ) -> Iterator[ClaimResult | ClaimError]:
        """Evaluate a stream of claims lazily, one at a time, yielding results in input order.

        ``errors="raise"`` (default) raises :class:`InvalidClaimError` at the first invalid
        record; ``errors="collect"`` yields a :class:`ClaimError` in its place and goes on, so
        every record in is a result or an error out.

        With ``history``, as :meth:`evaluate`; the claims are recorded ``batch_size`` to a
        transaction and each batch's results come out once it is committed (``batch_size=1``
        for a stream that must answer each claim before the next arrives).

        Example:
            >>> engine = load_engine()
            >>> out = list(engine.evaluate_many([{"claim_id": "A", "payer": "x", "lines": []}],
            ...                                 errors="collect"))
            >>> type(out[0]).__name__
            'ClaimError'
        """
        if errors not in ("raise", "collect"):
            raise ValueError("errors must be 'raise' or 'collect'")
        if history is not None:
            parsed_claims = (parse_claim(claim, record=record)
                             for record, claim in enumerate(claims, start=1))
            for item in judge_stream(self, history, parsed_claims, batch_size):
                if isinstance(item, ClaimError) and errors == "raise":
                    raise InvalidClaimError(item)
                yield item
            return
        for record, claim in enumerate(claims, start=1):
            parsed = parse_claim(claim, record=record)
            if isinstance(parsed, ClaimError):
                if errors == "raise":
                    raise InvalidClaimError(parsed)
                yield parsed
            else:
                yield self._evaluate(parsed)

    # -- the one evaluation path ---------------------------------------------------------------

    def _eras(self, state: str | None) -> list[dict[str, _CodeIndex]]:
        eras = self._tables.get(state) if state is not None else None
        return self._tables[None] if eras is None else eras

    def _index(self, payer: str, state: str | None, day: dt.date) -> _CodeIndex:
        return self._eras(state)[bisect_right(self._boundaries, day)][payer]

    def _evaluate(
        self, claim: Claim, others: Mapping[dt.date, Sequence[tuple[str, int]]] | None = None
    ) -> ClaimResult:
        # The hot path: a claim's lines share the payer and state, and usually one to three dates,
        # so the code index is looked up once per date; lines whose code no edit watches cost one
        # dictionary look-up and one tuple.
        # ``others``: the (code, units) of the lines of other claims of the same patient and
        # provider, by date of service (claim history, see claimedit.history): they count as
        # lines billed that day.
        lines = claim.lines
        several = len(lines) > 1 or bool(others)
        payer = claim.payer
        state = claim.state
        eras = self._base if state is None else self._eras(state)
        boundaries = self._boundaries
        last_day: dt.date | None = None
        index: _CodeIndex = {}
        indexes: dict[dt.date, _CodeIndex] = {}
        day_codes: dict[dt.date, list[str]] | None = None
        results = []
        position = 0
        for line in lines:
            position += 1
            day = line.date_of_service
            if day != last_day:  # consecutive lines mostly share their date of service
                last_day = day
                found = indexes.get(day)
                if found is None:
                    found = indexes[day] = eras[bisect_right(boundaries, day)][payer]
                index = found
            code = line.code
            rules = index.get(code)
            if rules is None:
                results.append(_new_result(LineResult, (
                    line.line_id or str(position), code, line.modifiers, day, _ALLOW, _NO_REASONS,
                )))
                continue
            context = _NO_CODES
            column1 = rules.column1
            if column1 is not None and several:
                if day_codes is None:
                    day_codes = {}
                    for other in lines:
                        day_codes.setdefault(other.date_of_service, []).append(other.code)
                    if others:
                        for other_day, other_lines in others.items():
                            if other_day in day_codes:
                                day_codes[other_day].extend([c for c, _ in other_lines])
                codes = day_codes[day]
                if len(codes) > 1:
                    # The column-1 codes billed on the other lines of the same date (the line's
                    # own code counts only when another line bills it too).
                    context = column1.intersection(codes)
                    if code in context and codes.count(code) == 1:
                        context = context - {code}
            decision, reasons = rules.outcome(line.modifiers, context)
            results.append(_new_result(LineResult, (
                line.line_id or str(position), code, line.modifiers, day, decision, reasons,
            )))
        # Payer is a str enum: it is the payer's text, without a look-up of .value per claim.
        return _new_result(ClaimResult, (
            claim.claim_id, payer, state, tuple(results), self._provenance, (), None,
        ))

    # -- what is in force ----------------------------------------------------------------------

    def edits_in_force(
        self, day: dt.date, *, payer: Payer | str | None = None, state: str | None = None
    ) -> list[SourcedEdit]:
        """The edits in force on a date of service, for a payer type and state (sorted by id).

        Example:
            >>> engine = load_engine()
            >>> "IGRT-MEDICARE-77387" in [e.edit.id for e in engine.edits_in_force(
            ...     dt.date(2025, 6, 2), payer="medicare")]
            True
        """
        wanted = Payer(payer) if payer is not None else None
        return [
            item for item in _edits_in_force(self._pack, day, state)
            if wanted is None or wanted in item.edit.payers
        ]


def _same_day_context(codes: Iterable[Any]) -> frozenset[str]:
    """The codes of ``evaluate_line``'s ``same_day_codes``, read as a claim line's code is: a
    number is taken as its digits (as ``ClaimLine`` does), anything else must be a code."""
    if isinstance(codes, str | bytes):
        # A lone string would be read character by character: say what is wrong instead.
        issue = FieldIssue("same_day_codes", f"{codes!r} is one value: pass a list of codes")
        raise InvalidClaimError(ClaimError("<python>", 1, None, (issue,)))
    context = set()
    issues = []
    for position, code in enumerate(codes):
        if isinstance(code, int) and not isinstance(code, bool):
            code = str(code)
        try:
            if not isinstance(code, str):
                raise ValueError(f"{code!r} is not a CPT or HCPCS code (a string)")
            context.add(normalise_code(code))
        except ValueError as exc:
            issues.append(FieldIssue("same_day_codes", f"item {position}: {exc}"))
    if issues:
        raise InvalidClaimError(ClaimError("<python>", 1, None, tuple(issues)))
    return frozenset(context)


def _decide(
    checks: tuple[Check, ...], modifiers: tuple[str, ...], context: frozenset[str]
) -> tuple[Decision, tuple[Reason, ...]]:
    """Run the checks compiled for a line's code; every one that matches adds its reason."""
    components = _components(modifiers)
    reasons = []
    worst = _ALLOW
    for check in checks:
        if check.components is not None and check.components.isdisjoint(components):
            continue
        if check.modifiers_all is not None and not check.modifiers_all.issubset(modifiers):
            continue
        if check.column1 is not None and check.column1.isdisjoint(context):
            continue
        if check.bypass is not None and not check.bypass.isdisjoint(modifiers):
            continue
        reason = check.reason
        reasons.append(reason)
        if _SEVERITY[reason.decision] > _SEVERITY[worst]:
            worst = reason.decision
    return worst, tuple(reasons) if reasons else _NO_REASONS


def _edits_in_force(pack: RulePack, day: dt.date, state: str | None) -> list[SourcedEdit]:
    active = {item.edit.id: item for item in pack.edits if item.effective.contains(day)}
    for overlay in pack.overlays:
        if overlay.state != state or not overlay.model.effective.contains(day):
            continue
        for rule_id in overlay.model.disable:
            active.pop(rule_id, None)
        for item in overlay.replace:
            # A replacement is in force only while the edit it replaces is: when the pack's
            # edit ends (say, at a code-set change), the state's version of it ends too.
            if item.edit.id in active and item.effective.contains(day):
                active[item.edit.id] = item
        for item in overlay.add:
            if item.effective.contains(day):
                active[item.edit.id] = item
    return [active[rule_id] for rule_id in sorted(active)]


def _compile(pack: RulePack) -> tuple[list[dt.date], dict[str | None, list[dict[str, _CodeIndex]]]]:
    """Split time into eras at every date something starts or ends, and build, per era, state
    variant and payer type, the code -> checks index."""
    cuts: set[dt.date] = set()
    ranges = [entry.effective for entry in pack.codes] + [item.effective for item in pack.edits]
    for overlay in pack.overlays:
        ranges.append(overlay.model.effective)
        ranges += [item.effective for item in overlay.edits]
    for span in ranges:
        # An era needs a day before the first cut to stand for it: no cut at the first date.
        if span.start is not None and span.start > dt.date.min:
            cuts.add(span.start)
        if span.end is not None and span.end < dt.date.max:
            cuts.add(span.end + dt.timedelta(days=1))
    boundaries = sorted(cuts)
    # era i covers [boundaries[i-1], boundaries[i]); a representative day for each:
    days = [boundaries[0] - dt.timedelta(days=1)] if boundaries else [dt.date(2000, 1, 1)]
    days += boundaries

    tables: dict[str | None, list[dict[str, _CodeIndex]]] = {}
    for state in [None, *(overlay.state for overlay in pack.overlays)]:
        eras = []
        for day in days:
            code_table = CodeTable(pack.codes, day)
            by_payer: dict[str, dict[str, list[Check]]] = {payer.value: {} for payer in Payer}
            for item in _edits_in_force(pack, day, state):
                compiled = list(COMPILERS[item.edit.kind](item, code_table))
                for payer in item.edit.payers:
                    index = by_payer[payer.value]
                    for code, check in compiled:
                        index.setdefault(code, []).append(check)
            eras.append({
                payer: {code: _CodeRules(tuple(checks)) for code, checks in index.items()}
                for payer, index in by_payer.items()
            })
        tables[state] = eras
    return boundaries, tables


def load_engine(path: str | Path | None = None, *, overlays: Iterable[str | Path] = ()) -> Engine:
    """Load and compile a rule pack: the packaged IGRT pack by default, or the one at ``path``.
    ``overlays`` adds state-exception files kept outside the pack (see :func:`load_pack`).

    Raises :class:`claimedit.RulePackError` listing every problem when the pack is broken.

    Example:
        >>> load_engine().provenance.pack
        'igrt'
    """
    return Engine(load_pack(packaged_rules_path() if path is None else path, overlays))
