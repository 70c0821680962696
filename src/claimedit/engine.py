"""The engine: rule packs compiled once, evaluating a line, a claim or a stream of claims.

Compilation turns the packs into, for every span of dates over which nothing changes (an *era*),
every state variant (the base packs and each state overlay), every payer type and every claim
type, a dictionary from procedure code to the checks that can fire on it (each edit through its
kind's compile step, :mod:`claimedit.edits`). Evaluating a line is then a binary search on the
date of service and a few dictionary look-ups; lines whose code no edit watches cost one look-up.
What a line's checks read (modifiers, the day's codes, units) is gathered only for the lines
that need it, and their outcome is memoised on exactly those facts. The YAML stays the only
source of truth: the compiled tables are rebuilt from it on load and on unpickling.

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
import logging
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

from claimedit._version import __version__
from claimedit.claims import (
    Claim,
    ClaimLine,
    ClaimType,
    Payer,
    normalise_code,
    parse_claim,
)
from claimedit.edits import KINDS, Check, CodeTable, Fact, Facts, TableCheck, components_billed
from claimedit.history.judge import judge, judge_alone, judge_stream
from claimedit.history.store import HistoryStore
from claimedit.limits import quote
from claimedit.pack import RulePack, SourcedEdit, check_composition, load_packs
from claimedit.results import (
    SEVERITY,
    ClaimError,
    ClaimResult,
    Decision,
    FieldIssue,
    HistoryStatus,
    LineResult,
    PackProvenance,
    Provenance,
    Reason,
    new_claim_result,
    new_line_result,
)

__all__ = ["Engine", "InvalidClaimError", "load_engine"]

_ALLOW = Decision.ALLOW
_SEVERITY = SEVERITY
_NO_REASONS: tuple[Reason, ...] = ()
_NO_CODES: frozenset[str] = frozenset()
_COMPONENT_MODIFIERS = frozenset({"26", "TC"})

_MEMO_LIMIT = 4096


class _CodeRules:
    """The checks compiled for one code (in one era, state variant, payer and claim type), and
    a memo of their outcomes.

    A line's outcome depends only on the facts these checks declare they read (see
    :class:`claimedit.edits.Fact`): the modifiers they test (26 and TC when one reads the
    components), the codes they look for on the other lines of the day, the line's units and
    the code's units that day, each capped just above the largest limit tested. The memo key is
    derived from those declarations, so it is computed once per such combination and shared.
    The memo is derived data: filling it twice from two threads stores the same value, it is
    keyed on what is read only and capped (a stream of other modifiers, GC, KX, 76 ..., or of
    unit counts cannot multiply it), and it is not pickled (the engine recompiles the packs).
    """

    __slots__ = ("checks", "counted", "day_codes", "day_units_cap", "memo", "tested",
                 "units_cap")

    def __init__(self, checks: tuple[Check, ...]) -> None:
        self.checks = checks
        tested: set[str] = set()
        day_codes: set[str] = set()
        units_cap = day_units_cap = 0
        for check in checks:
            reads = check.reads
            if Fact.COMPONENTS in reads:
                tested |= _COMPONENT_MODIFIERS
            if Fact.MODIFIERS in reads:
                tested |= check.modifiers
            if Fact.DAY_CODES in reads:
                day_codes |= check.day_codes
            if Fact.UNITS in reads:
                units_cap = max(units_cap, check.units_cap)
            if Fact.DAY_UNITS in reads:
                day_units_cap = max(day_units_cap, check.units_cap)
        self.tested = frozenset(tested)
        self.day_codes: frozenset[str] | None = frozenset(day_codes) or None
        self.units_cap = units_cap
        self.day_units_cap = day_units_cap
        # Some check reads units: the engine calls counted_outcome.
        self.counted = units_cap > 0 or day_units_cap > 0
        self.memo: dict[tuple[Any, ...], tuple[Decision, tuple[Reason, ...]]] = {}

    def outcome(
        self, modifiers: tuple[str, ...], day_codes: frozenset[str]
    ) -> tuple[Decision, tuple[Reason, ...]]:
        """The outcome for checks that read no units (the common case: a shorter key)."""
        if modifiers and not self.tested.issuperset(modifiers):
            modifiers = tuple([modifier for modifier in modifiers if modifier in self.tested])
        key = (modifiers, day_codes)
        found = self.memo.get(key)
        if found is None:
            found = self._decide(modifiers, day_codes, 0, 0, key)
        return found

    def counted_outcome(
        self, modifiers: tuple[str, ...], day_codes: frozenset[str], units: int, day_units: int
    ) -> tuple[Decision, tuple[Reason, ...]]:
        """The outcome for checks that read the line's units or the code's units that day."""
        if modifiers and not self.tested.issuperset(modifiers):
            modifiers = tuple([modifier for modifier in modifiers if modifier in self.tested])
        # Counts not read are 0; counts read are capped where every larger one answers the same.
        units = min(units, self.units_cap)
        day_units = min(day_units, self.day_units_cap)
        key = (modifiers, day_codes, units, day_units)
        found = self.memo.get(key)
        if found is None:
            found = self._decide(modifiers, day_codes, units, day_units, key)
        return found

    def _decide(self, modifiers: tuple[str, ...], day_codes: frozenset[str], units: int,
                day_units: int, key: tuple[Any, ...]) -> tuple[Decision, tuple[Reason, ...]]:
        found = _decide(self.checks, Facts(
            modifiers, components_billed(modifiers), units, day_codes, day_units))
        if len(self.memo) < _MEMO_LIMIT:
            self.memo[key] = found
        return found


# code -> its rules, for one era, state variant, payer type and claim type
_CodeIndex = dict[str, _CodeRules]
# (payer type, claim type) -> its code index, for one era and state variant
_Era = dict[tuple[str, str], _CodeIndex]
# (payer type, claim type) -> the code index of each era, for one state variant: the claim's
# scope is looked up once per claim, its era once per date of service.
_Scoped = dict[tuple[str, str], list[_CodeIndex]]
# (payer type, claim type) -> the table-backed checks in force in each era (NCCI tables: their
# rows carry their own dates, so one check object serves every era it is in force in).
_TableScoped = dict[tuple[str, str], list[tuple[TableCheck, ...]]]


class _LargeDay:
    """The codes of a date of service with many lines, counted once: the set of its codes and
    how many lines bill each. Below :data:`_LARGE_DAY` lines a plain list is faster to build
    and to search; above it, counting per line would make a claim cost quadratic time (a claim
    of 40,000 lines on one date took 30 s)."""

    __slots__ = ("codes", "count")

    def __init__(self, codes: list[str]) -> None:
        self.codes = frozenset(codes)
        self.count = Counter(codes)


_LARGE_DAY = 32


def _day_units(
    lines: tuple[ClaimLine, ...], others: Mapping[dt.date, Sequence[tuple[str, int]]] | None
) -> dict[tuple[dt.date, str], int]:
    """Units of each code on each date of service, summed over the claim's lines (and the lines
    of the patient's other claims that day, ``others``), in one pass."""
    units: dict[tuple[dt.date, str], int] = {}
    for line in lines:
        key = (line.date_of_service, line.code)
        units[key] = units.get(key, 0) + line.units
    if others:
        for day, other_lines in others.items():
            for code, count in other_lines:
                key = (day, code)
                units[key] = units.get(key, 0) + count
    return units


class InvalidClaimError(ValueError):
    """The input is not a valid claim. ``error`` names the record and every field at fault."""

    def __init__(self, error: ClaimError) -> None:
        self.error = error
        super().__init__(str(error))


class Engine:
    """A compiled rule pack. Immutable: share one between threads, pickle it to processes.

    Build it with :func:`load_engine`. See :meth:`evaluate`, :meth:`evaluate_line` and
    :meth:`evaluate_many`.
    """

    __slots__ = ("_base", "_boundaries", "_known", "_packs", "_provenance", "_table_base",
                 "_table_checks", "_tables")

    def __init__(self, packs: RulePack | Sequence[RulePack]) -> None:
        packs = (packs,) if isinstance(packs, RulePack) else tuple(packs)
        if not packs:
            raise ValueError("an Engine needs at least one rule pack")
        check_composition(packs)
        self._packs = packs
        self._provenance = Provenance.of(
            tuple(PackProvenance(p.meta.id, p.meta.version, p.content_hash) for p in packs),
            __version__,
        )
        boundaries, tables, table_checks = _compile(packs)
        self._boundaries = boundaries
        self._base = tables[None]
        self._table_checks = table_checks
        self._table_base = table_checks.get(None)
        # Codes some pack's code table lists: a line of any other code is not reviewed.
        self._known = frozenset(entry.code for pack in packs for entry in pack.codes)
        self._tables = tables  # set last: from here on the engine refuses changes

    def __reduce__(self) -> tuple[type[Engine], tuple[tuple[RulePack, ...]]]:
        # The compiled tables are derived data: ship the validated packs and recompile.
        return (Engine, (self._packs,))

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_tables"):
            raise AttributeError("an Engine is immutable")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError("an Engine is immutable")

    @property
    def pack(self) -> RulePack:
        """The validated rule pack this engine was compiled from (the first, when several)."""
        return self._packs[0]

    @property
    def packs(self) -> tuple[RulePack, ...]:
        """Every rule pack this engine was compiled from, in load order."""
        return self._packs

    @property
    def provenance(self) -> Provenance:
        """The packs' ids, versions and content hashes, as stamped on every result."""
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
        billed that day, for every edit that reads the day's codes or units; the claim is then
        recorded, and ``adjustments`` lists earlier lines whose decision it changes
        (``docs/history.md``). The engine holds no store: it is passed in on each call.

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
            if valid.patient_id is None or valid.provider_id is None:
                return judge_alone(self, valid)  # nothing to look up or record: no transaction
            return history.transact(lambda session: judge(self, valid, session))
        return self._evaluate(claim)

    def evaluate_line(
        self,
        line: ClaimLine | Mapping[str, Any],
        *,
        payer: Payer | str,
        same_day_codes: Iterable[str] = (),
        state: str | None = None,
        claim_type: ClaimType | str = ClaimType.PROFESSIONAL,
    ) -> LineResult:
        """Evaluate one line, given the payer type, the codes of the other lines billed the
        same date of service (the context a claim would give), and optionally the state and the
        claim type.

        The line goes through the same path as a claim's: it is evaluated as a claim of itself
        and one line (one unit, no modifier) per same-day code given. Its units are its own; a
        code given twice stands for two other lines of that code, so a date-of-service unit
        limit counts it twice (``same_day_codes=["G6001", "G6001"]`` next to a G6001 line is 3
        units of G6001 that day), as a claim of those lines would.

        Example:
            >>> import datetime as dt
            >>> engine = load_engine()
            >>> engine.evaluate_line(
            ...     ClaimLine(code="G6001", modifiers=["TC"], date_of_service=dt.date(2025, 3, 3)),
            ...     payer="commercial", same_day_codes=["77386"]).decision
            <Decision.BUNDLE: 'bundle'>
        """
        parsed = parse_claim({"claim_id": "-", "payer": payer, "state": state,
                              "claim_type": claim_type, "lines": [line]})
        if isinstance(parsed, ClaimError):
            raise InvalidClaimError(parsed)
        others = _same_day_codes(same_day_codes)
        if others:
            day = parsed.lines[0].date_of_service
            # Validated above (the codes normalised, the date the line's): built without
            # validating again.
            context = tuple(
                ClaimLine.model_construct(line_id=None, code=code, modifiers=(),
                                          date_of_service=day, units=1, charge=None)
                for code in others
            )
            parsed = parsed.model_copy(update={"lines": (parsed.lines[0], *context)})
        return self._evaluate(parsed).lines[0]

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

    def _evaluate(
        self, claim: Claim, others: Mapping[dt.date, Sequence[tuple[str, int]]] | None = None,
        history: HistoryStatus | None = None,
    ) -> ClaimResult:
        # The hot path: a claim's lines share the payer, claim type and state, and usually one
        # to three dates, so the code index is looked up once per date; lines whose code no edit
        # watches cost one dictionary look-up and one tuple. What a line's checks read is
        # gathered only when they read it, once per claim: the codes of each date of service
        # (counted once per date when the date has many lines), the units of each code and date.
        # ``others``: the (code, units) of the lines of the patient's other claims at the same
        # provider, by date of service (claim history, see claimedit.history): they count as
        # lines billed that day, for the day's codes and the day's units alike. ``history``: the
        # result's history status, when the caller knows it before the claim is judged.
        lines = claim.lines
        several = len(lines) > 1 or bool(others)
        state = claim.state
        scoped = self._base if state is None else self._tables.get(state, self._base)
        scope = (claim.payer, claim.claim_type)
        eras = scoped[scope]
        # Table-backed checks (NCCI tables) of the claim's scope, per era; None: there are none.
        table_scoped = self._table_base if state is None else self._table_checks.get(
            state, self._table_base)
        table_eras = None if table_scoped is None else table_scoped.get(scope)
        table_checks: tuple[TableCheck, ...] = ()
        day_number = 0
        distinct: dict[dt.date, frozenset[str]] | None = None
        boundaries = self._boundaries
        known = self._known
        make_line = new_line_result  # locals: the loop below runs once per line
        allow = _ALLOW
        no_reasons = _NO_REASONS
        last_day: dt.date | None = None
        index: _CodeIndex = {}
        indexes: dict[dt.date, _CodeIndex] = {}
        days: dict[dt.date, list[str]] | None = None
        large: dict[dt.date, _LargeDay] | None = None
        units_by_day: dict[tuple[dt.date, str], int] | None = None
        results = []
        position = 0
        for line in lines:
            position += 1
            day = line.date_of_service
            if day != last_day:  # consecutive lines mostly share their date of service
                last_day = day
                found = indexes.get(day)
                if found is None:
                    found = indexes[day] = eras[bisect_right(boundaries, day)]
                index = found
                if table_eras is not None:
                    table_checks = table_eras[bisect_right(boundaries, day)]
                    day_number = day.year * 10000 + day.month * 100 + day.day
            code = line.code
            rules = index.get(code)
            extra = no_reasons
            if table_checks:
                # Table-backed checks see every line of their scope: the day's distinct codes
                # and the code's units that day, gathered once per claim.
                units = line.units
                if several:
                    if distinct is None:
                        distinct, units_by_day = _day_codes_and_units(lines, others)
                    day_units = units_by_day[day, code]  # type: ignore[index]
                    day_codes_all = distinct[day]
                else:
                    day_units = units
                    day_codes_all = frozenset((code,))
                for table_check in table_checks:
                    fired = table_check(code, line.modifiers, day_number, day_codes_all, units,
                                        day_units)
                    if fired:
                        extra += fired
                if rules is None:
                    decision, reasons = _merge(allow, no_reasons, extra) if extra else (
                        allow, no_reasons)
                    results.append(make_line((
                        line.line_id or str(position), code, line.modifiers, day, decision,
                        reasons, line.charge, True,
                    )))
                    continue
            if rules is None:
                results.append(make_line((
                    line.line_id or str(position), code, line.modifiers, day, allow, no_reasons,
                    line.charge, code in known,
                )))
                continue
            day_codes = _NO_CODES
            watched = rules.day_codes
            if watched is not None and several:
                if days is None:
                    days = {}
                    for other in lines:
                        days.setdefault(other.date_of_service, []).append(other.code)
                    if others:
                        for other_day, other_lines in others.items():
                            if other_day in days:
                                days[other_day].extend([code for code, _ in other_lines])
                codes = days[day]
                if len(codes) > _LARGE_DAY:
                    if large is None:
                        large = {}
                    counted = large.get(day)
                    if counted is None:
                        counted = large[day] = _LargeDay(codes)
                    day_codes = watched.intersection(counted.codes)
                    if code in day_codes and counted.count[code] == 1:
                        day_codes = day_codes - {code}
                elif len(codes) > 1:
                    # The watched codes billed on the other lines of the same date (the line's
                    # own code counts only when another line bills it too).
                    day_codes = watched.intersection(codes)
                    if code in day_codes and codes.count(code) == 1:
                        day_codes = day_codes - {code}
            if rules.counted:
                units = line.units
                day_units = units
                if several and rules.day_units_cap:
                    if units_by_day is None:
                        units_by_day = _day_units(lines, others)
                    day_units = units_by_day[day, code]
                decision, reasons = rules.counted_outcome(
                    line.modifiers, day_codes, units, day_units)
            else:
                decision, reasons = rules.outcome(line.modifiers, day_codes)
            if extra:
                decision, reasons = _merge(decision, reasons, extra)
            results.append(make_line((
                line.line_id or str(position), code, line.modifiers, day, decision, reasons,
                line.charge, True,
            )))
        # Payer is a str enum: it is the payer's text, without a look-up of .value per claim.
        return new_claim_result((
            claim.claim_id, claim.payer, state, tuple(results), self._provenance, (), (), history,
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
        found = [
            item for pack in self._packs for item in _edits_in_force(pack, day, state)
            if wanted is None or wanted in item.edit.payers
        ]
        return sorted(found, key=lambda item: item.edit.id)


def _same_day_codes(codes: Iterable[Any]) -> tuple[str, ...]:
    """The codes of ``evaluate_line``'s ``same_day_codes``, one per other line (repeats kept:
    they are units of that code that day), read as a claim line's code is: a number is taken as
    its digits (as ``ClaimLine`` does), anything else must be a code."""
    if isinstance(codes, str | bytes):
        # A lone string would be read character by character: say what is wrong instead.
        issue = FieldIssue("same_day_codes", f"{quote(codes)} is one value: pass a list of codes",
                           "string_not_list")
        raise InvalidClaimError(ClaimError("<python>", 1, None, (issue,)))
    context: list[str] = []
    issues = []
    for position, code in enumerate(codes):
        if isinstance(code, int) and not isinstance(code, bool):
            code = str(code)
        try:
            if not isinstance(code, str):
                raise ValueError(f"{quote(code)} is not a CPT or HCPCS code (a string)")
            context.append(normalise_code(code))
        except ValueError as exc:
            issues.append(FieldIssue("same_day_codes", f"item {position}: {exc}", "code_invalid"))
    if issues:
        raise InvalidClaimError(ClaimError("<python>", 1, None, tuple(issues)))
    return tuple(context)


def _day_codes_and_units(
    lines: tuple[ClaimLine, ...], others: Mapping[dt.date, Sequence[tuple[str, int]]] | None
) -> tuple[dict[dt.date, frozenset[str]], dict[tuple[dt.date, str], int]]:
    """The distinct codes of each date of service of a claim, and the units of each code on
    each date, in one pass; the lines of the patient's other claims that day (``others``,
    claim history) count as lines billed that day."""
    days: dict[dt.date, set[str]] = {}
    units: dict[tuple[dt.date, str], int] = {}
    for line in lines:
        day = line.date_of_service
        code = line.code
        codes = days.get(day)
        if codes is None:
            codes = days[day] = set()
        codes.add(code)
        key = (day, code)
        units[key] = units.get(key, 0) + line.units
    if others:
        for day, other_lines in others.items():
            if day not in days:
                continue
            codes = days[day]
            for code, count in other_lines:
                codes.add(code)
                key = (day, code)
                units[key] = units.get(key, 0) + count
    return {day: frozenset(codes) for day, codes in days.items()}, units


def _merge(decision: Decision, reasons: tuple[Reason, ...], extra: tuple[Reason, ...]
           ) -> tuple[Decision, tuple[Reason, ...]]:
    """The outcome of the code index's checks and the table-backed checks' reasons together:
    the reasons sorted by rule id (as the index's are), the most severe decision."""
    if not extra:
        return decision, reasons
    for reason in extra:
        if _SEVERITY[reason.decision] > _SEVERITY[decision]:
            decision = reason.decision
    return decision, tuple(sorted(reasons + extra, key=_reason_rule_id))


def _reason_rule_id(reason: Reason) -> str:
    return reason.rule_id


def _decide(checks: tuple[Check, ...], facts: Facts) -> tuple[Decision, tuple[Reason, ...]]:
    """Run the checks compiled for a line's code; every one that fires adds its reason."""
    reasons = []
    worst = _ALLOW
    for check in checks:
        if not check.fires(facts):
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


def _compile(
    packs: tuple[RulePack, ...],
) -> tuple[list[dt.date], dict[str | None, _Scoped], dict[str | None, _TableScoped]]:
    """Split time into eras at every date something starts or ends, and build, per era, state
    variant, payer type and claim type, the code -> checks index. Each pack's edits are
    compiled against its own code table; a state overlay applies to its own pack's edits."""
    cuts: set[dt.date] = set()
    ranges = []
    for pack in packs:
        ranges += [entry.effective for entry in pack.codes]
        ranges += [item.effective for item in pack.edits]
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
    scopes = [(payer.value, claim_type.value) for payer in Payer for claim_type in ClaimType]

    tables: dict[str | None, _Scoped] = {}
    table_checks: dict[str | None, _TableScoped] = {}
    # A table-backed edit's check is built once (it opens its table) and shared by its eras.
    built: dict[int, TableCheck] = {}
    states = dict.fromkeys(overlay.state for pack in packs for overlay in pack.overlays)
    for state in [None, *states]:
        eras = []
        table_eras: list[dict[tuple[str, str], list[TableCheck]]] = []
        for day in days:
            by_scope: dict[tuple[str, str], dict[str, list[Check]]] = {s: {} for s in scopes}
            table_scope: dict[tuple[str, str], list[TableCheck]] = {s: [] for s in scopes}
            for pack in packs:
                code_table = CodeTable(pack.codes, day)
                for item in _edits_in_force(pack, day, state):
                    edit = item.edit
                    kind = KINDS[edit.kind]
                    if kind.table is not None:
                        table_check = built.get(id(item))
                        if table_check is None:
                            table_check = built[id(item)] = kind.table(item)
                        for payer in edit.payers:
                            for claim_type in edit.claim_types:
                                table_scope[payer.value, claim_type.value].append(table_check)
                        continue
                    compiled = list(kind.compile(item, code_table))
                    for payer in edit.payers:
                        for claim_type in edit.claim_types:
                            index = by_scope[payer.value, claim_type.value]
                            for code, check in compiled:
                                index.setdefault(code, []).append(check)
            # Scopes with the same checks for a code share one _CodeRules (and its memo): most
            # edits apply to both claim types.
            shared: dict[tuple[Check, ...], _CodeRules] = {}
            era: _Era = {}
            for scope, index in by_scope.items():
                era[scope] = {}
                for code, checks in index.items():
                    # Reasons come out sorted by rule id, whichever pack an edit came from.
                    key = tuple(sorted(checks, key=_rule_id))
                    rules = shared.get(key)
                    if rules is None:
                        rules = shared[key] = _CodeRules(key)
                    era[scope][code] = rules
            eras.append(era)
            table_eras.append(table_scope)
        tables[state] = {scope: [era[scope] for era in eras] for scope in scopes}
        if any(checks for era_checks in table_eras for checks in era_checks.values()):
            table_checks[state] = {scope: [tuple(era_checks[scope]) for era_checks in table_eras]
                                   for scope in scopes}
    return boundaries, tables, table_checks


def _rule_id(check: Check) -> str:
    return check.rule_id


def load_engine(
    packs: str | Path | Iterable[str | Path] | None = None,
    *,
    overlays: Iterable[str | Path] = (),
) -> Engine:
    """Load and compile rule packs: the packaged IGRT pack by default; or one pack, or a list
    of packs evaluated together, each a packaged pack's name (``"igrt"``, ``"ncci-radonc"``)
    or a directory. Every pack's edits fire on every line; the line's decision is the most
    severe. ``overlays`` adds state-exception files kept outside the packs; they apply to the
    first pack (see :func:`claimedit.load_pack`).

    Raises :class:`claimedit.RulePackError` listing every problem when a pack is broken, or
    when two packs share a rule id (naming both files). Which packs were loaded, from where, is
    logged at INFO on the ``claimedit`` logger, and is on the engine: ``engine.packs`` (each
    with its ``root``), ``engine.provenance``.

    Example:
        >>> load_engine().provenance.pack
        'igrt'
        >>> load_engine(["igrt", "ncci-radonc"]).provenance.version  # doctest: +ELLIPSIS
        '2026...+2024.3...'
    """
    engine = Engine(load_packs(packs, overlays))
    for pack in engine.packs:
        logging.getLogger("claimedit").info("rule pack %s %s %s from %s", pack.meta.id,
                                            pack.meta.version, pack.content_hash, pack.root)
    return engine
