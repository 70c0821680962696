"""Judging a claim with the patient's history: what ``Engine.evaluate(claim, history=store)``
does inside one store transaction.

1. A claim without ``patient_id`` or ``provider_id`` is judged on its own lines, as without a
   store, is not recorded, and says so (``HistoryStatus.JUDGED_ALONE``).
2. Otherwise the store is asked for the lines of the patient's other claims at the same billing
   provider on the claim's dates of service (and on the dates of the stored claim of the same
   id, which a replacement or void takes away). They count as lines billed that day: the claim is
   evaluated through the engine's one evaluation path with them as the day's other lines.
3. Each of those earlier claims is judged again with the day as it now stands (the new claim in
   it; a replaced or voided claim out of it). A line whose decision changes is an
   :class:`~claimedit.results.Adjustment` of the result, and its stored decision is updated, so
   an adjustment is reported once, by the claim that caused it.
4. The stored claim of the same provider and claim id, if any, is removed (a replacement, a void,
   or the same claim sent again), and the claim is recorded with its decisions, unless it is a
   void. Sending a claim again therefore changes nothing: same decisions, no new adjustments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from claimedit.claims import Claim
from claimedit.history.store import (
    VOID,
    HistoryError,
    HistorySession,
    HistoryStore,
    LineChange,
    StoredClaim,
)
from claimedit.results import (
    Adjustment,
    ClaimError,
    ClaimResult,
    HistoryStatus,
    Reason,
    new_claim_result,
)

if TYPE_CHECKING:
    from claimedit.engine import Engine

__all__ = ["judge", "judge_alone", "judge_stream"]

# The lines of a day that count as billed that day, as the engine reads them: (code, units).
_DayLines = dict[dt.date, list[tuple[str, int]]]


def judge(engine: Engine, claim: Claim, session: HistorySession) -> ClaimResult:
    """Evaluate ``claim`` with the history in ``session``, record it, and list the earlier lines
    whose decision it changes (see the module's description)."""
    patient, provider, claim_id = claim.patient_id, claim.provider_id, claim.claim_id
    if patient is None or provider is None:
        return judge_alone(engine, claim)
    void = claim.frequency_code == VOID
    session.lock(patient, provider, claim_id)
    claim_days = {line.date_of_service for line in claim.lines}
    prior, same_day = session.look_up(patient, provider, claim_id, claim_days)
    if prior is None and not same_day and not void:
        # The common case: a new claim, alone on its days. Nothing to judge again; the result
        # is made with its status (rather than copied to set it, as below).
        result = engine._evaluate(claim, None, HistoryStatus.RECORDED)
        session.record(claim, result)
        return result
    earlier = {patient: same_day}
    if prior is not None:
        # The stored version this claim replaces or voids leaves its days (and its patient's,
        # when a replacement corrects the patient): the claims of those days are judged again.
        prior_days = {line.date_of_service for line in prior.lines}
        if prior.patient_id != patient:
            session.lock(prior.patient_id, provider, claim_id)
            earlier[prior.patient_id] = _others(
                session.claims_on(prior.patient_id, provider, prior_days), claim_id)
        elif not prior_days <= claim_days:
            earlier[patient] = _others(
                session.claims_on(patient, provider, claim_days | prior_days), claim_id)

    # A private method of the engine, on purpose: history supplies the day's other lines to the
    # one evaluation path; it is not a second way to evaluate.
    result = engine._evaluate(claim, _day_lines(earlier[patient]) if earlier[patient] else None)

    adjustments: list[Adjustment] = []
    for person, claims in earlier.items():
        if not claims:
            continue  # the common case: no other claim of the patient's day
        # Judged again, an earlier claim meets every code of its days (a bundle applies
        # whichever claim came first), but counts only the units of the claims that came before
        # it: a units limit over the day denies the units of the claim that goes over it, not
        # those already paid (CMS FAQ 11344 on date-of-service MUEs).
        mine = _day_lines([claim], units=False) if person == patient and not void else {}
        for stored in claims:
            context = _day_lines([other for other in claims if other is not stored],
                                 before=stored.sequence)
            for day, lines in mine.items():
                context.setdefault(day, []).extend(lines)
            again = engine._evaluate(_as_claim(stored), context or None)
            changes = []
            for line, new in zip(stored.lines, again.lines, strict=True):
                rule_ids = _rule_ids(new.reasons)
                if new.decision is not line.decision:
                    adjustments.append(Adjustment(
                        stored.claim_id, line.line_id, line.code, line.modifiers,
                        line.date_of_service, new.decision, new.reasons,
                    ))
                if new.decision is not line.decision or rule_ids != line.reason_ids:
                    changes.append(LineChange(line.position, new.decision, rule_ids))
            if changes:
                session.redecide(provider, stored.claim_id, changes)

    if prior is not None:
        session.remove(provider, claim_id)
    if void:
        status = HistoryStatus.VOIDED if prior is not None else HistoryStatus.NOT_ON_FILE
    else:
        session.record(claim, result)
        status = HistoryStatus.REPLACED if prior is not None else HistoryStatus.RECORDED
    return _with_history(result, tuple(adjustments), status)


def judge_alone(engine: Engine, claim: Claim) -> ClaimResult:
    """A claim without patient or provider id: judged on its own lines, not recorded, and
    saying so. No store is needed (nor its write lock)."""
    return engine._evaluate(claim, None, HistoryStatus.JUDGED_ALONE)


def _with_history(
    result: ClaimResult, adjustments: tuple[Adjustment, ...], status: HistoryStatus
) -> ClaimResult:
    # The engine's result with the history fields set (tuple.__new__: NamedTuple._replace
    # costs a Python call per field; this runs once per claim).
    return new_claim_result((*result[:-2], adjustments, status))  # the last two fields


def _others(claims: list[StoredClaim], claim_id: str) -> list[StoredClaim]:
    return [stored for stored in claims if stored.claim_id != claim_id]


def _rule_ids(reasons: tuple[Reason, ...]) -> tuple[str, ...]:
    return tuple([reason.rule_id for reason in reasons]) if reasons else ()


def judge_stream(
    engine: Engine,
    store: HistoryStore,
    items: Iterable[Claim | ClaimError],
    batch_size: int = 256,
    on_error: Callable[[int, Claim, Exception], ClaimError] | None = None,
    again: Callable[[int], Claim] | None = None,
) -> Iterator[ClaimResult | ClaimError]:
    """Judge a stream of claims with ``store``, ``batch_size`` claims a transaction, yielding
    results (and the errors passed in) in input order once their transaction has committed.

    One transaction per batch, not per claim: a commit is the costly step of a store, and a batch
    keeps the store's throughput close to the engine's. Every claim of a batch still sees the
    ones before it, as the batch's reads happen inside its transaction.

    ``on_error(position, claim, exception)``: when a claim fails unexpectedly (a bug, not the
    store: a :class:`HistoryError` always ends the stream), the batch is rolled back and judged
    again one claim a transaction; the failing claim becomes the error ``on_error`` returns
    (``position`` is its 0-based place in ``items``), the others are recorded. Without it, the
    exception is raised.

    ``again(position)``: the claim at ``position`` in ``items``, made again (``check`` parses
    its record again). When given, each claim is let go as soon as it is judged, and a batch
    judged again (after a failure, or a store's retry) takes its claims from ``again``: a batch
    then never holds all its claims at once, and the memory of a claim just judged serves the
    next, while it is still in the processor's cache (about 0.9 s of 13 over 1,000,000 lines;
    docs/performance.md).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    pending: list[Claim | ClaimError | None] = []  # None: a claim let go once judged (again)
    first = 0  # position of pending[0] in items

    def claim_at(index: int) -> Claim | ClaimError:
        item = pending[index]
        if item is None:
            assert again is not None
            item = again(first + index)
        return item

    def work(session: HistorySession) -> list[ClaimResult | ClaimError]:
        out: list[ClaimResult | ClaimError] = []
        for index in range(len(pending)):
            item = claim_at(index)
            if isinstance(item, ClaimError):
                out.append(item)
                continue
            if again is not None:
                pending[index] = None
            out.append(judge(engine, item, session))
        return out

    def one_by_one() -> list[ClaimResult | ClaimError]:
        assert on_error is not None
        out: list[ClaimResult | ClaimError] = []
        for index in range(len(pending)):
            position, item = first + index, claim_at(index)
            if isinstance(item, ClaimError):
                out.append(item)
                continue
            try:
                out.append(store.transact(partial(judge, engine, item)))
            except HistoryError:
                raise
            except Exception as exc:  # (one claim's failure must not end the run)
                out.append(on_error(position, item, exc))
        return out

    def flush() -> list[ClaimResult | ClaimError]:
        try:
            return store.transact(work)
        except HistoryError:
            raise
        except Exception:
            if on_error is None:
                raise
            return one_by_one()

    for item in items:
        pending.append(item)
        if len(pending) >= batch_size:
            yield from flush()
            first += len(pending)
            pending = []
    if pending:
        yield from flush()


def _day_lines(
    claims: Iterable[Claim | StoredClaim], *, units: bool = True, before: int | None = None
) -> _DayLines:
    """The (code, units) of the claims' lines, by date of service. ``units=False``, or a stored
    claim that arrived at ``before`` or later: its lines count with no units (their codes still
    count)."""
    found: _DayLines = {}
    for claim in claims:
        counted = units and (before is None or (
            isinstance(claim, StoredClaim) and claim.sequence < before))
        for line in claim.lines:
            found.setdefault(line.date_of_service, []).append(
                (line.code, line.units if counted else 0))
    return found


def _as_claim(stored: StoredClaim) -> Claim:
    """A stored claim (its lines of the days asked for), read by the engine as a claim: it has
    every attribute the engine reads (see :class:`StoredClaim`), and its values were validated
    when the claim was first judged. No copy: judging earlier claims again is the hot part of a
    claim that meets history."""
    return cast(Claim, stored)
