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
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from claimedit.claims import Claim, ClaimLine, ClaimType, Payer
from claimedit.history.store import (
    VOID,
    HistorySession,
    HistoryStore,
    LineChange,
    StoredClaim,
    StoredLine,
)
from claimedit.results import Adjustment, ClaimError, ClaimResult, HistoryStatus

if TYPE_CHECKING:
    from claimedit.engine import Engine

__all__ = ["judge", "judge_stream"]

_DayCodes = dict[dt.date, list[str]]


def judge(engine: Engine, claim: Claim, session: HistorySession) -> ClaimResult:
    """Evaluate ``claim`` with the history in ``session``, record it, and list the earlier lines
    whose decision it changes (see the module's description)."""
    patient, provider, claim_id = claim.patient_id, claim.provider_id, claim.claim_id
    if patient is None or provider is None:
        return engine._evaluate(claim)._replace(history=HistoryStatus.JUDGED_ALONE)
    void = claim.frequency_code == VOID
    session.lock(patient, provider, claim_id)
    prior = session.find(provider, claim_id)

    # The days this claim can change, per patient: its own, and those of the stored version it
    # replaces or voids (whose patient a replacement may have corrected).
    days: dict[str, set[dt.date]] = {patient: {line.date_of_service for line in claim.lines}}
    if prior is not None:
        if prior.patient_id != patient:
            session.lock(prior.patient_id, provider, claim_id)
        days.setdefault(prior.patient_id, set()).update(
            line.date_of_service for line in prior.lines
        )
    earlier = {
        person: [stored for stored in session.claims_on(person, provider, sorted(person_days))
                 if stored.claim_id != claim_id]
        for person, person_days in days.items()
    }

    # A private method of the engine, on purpose: history supplies the day's other lines to the
    # one evaluation path; it is not a second way to evaluate.
    result = engine._evaluate(claim, _day_codes(earlier[patient]) or None)

    mine = _day_codes([claim]) if not void else {}
    adjustments: list[Adjustment] = []
    for person, claims in earlier.items():
        for stored in claims:
            context = _day_codes([other for other in claims if other is not stored])
            if person == patient:
                for day, codes in mine.items():
                    context.setdefault(day, []).extend(codes)
            again = engine._evaluate(_as_claim(stored), context or None)
            changes = []
            for line, new in zip(stored.lines, again.lines, strict=True):
                rule_ids = new.rule_ids
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
        session.add(_stored(claim, patient, provider, result))
        status = HistoryStatus.REPLACED if prior is not None else HistoryStatus.RECORDED
    return result._replace(adjustments=tuple(adjustments), history=status)


def judge_stream(
    engine: Engine,
    store: HistoryStore,
    items: Iterable[Claim | ClaimError],
    batch_size: int = 256,
) -> Iterator[ClaimResult | ClaimError]:
    """Judge a stream of claims with ``store``, ``batch_size`` claims a transaction, yielding
    results (and the errors passed in) in input order once their transaction has committed.

    One transaction per batch, not per claim: a commit is the costly step of a store, and a batch
    keeps the store's throughput close to the engine's. Every claim of a batch still sees the
    ones before it, as the batch's reads happen inside its transaction.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    pending: list[Claim | ClaimError] = []

    def work(session: HistorySession) -> list[ClaimResult | ClaimError]:
        return [item if isinstance(item, ClaimError) else judge(engine, item, session)
                for item in pending]

    for item in items:
        pending.append(item)
        if len(pending) >= batch_size:
            yield from store.transact(work)
            pending = []
    if pending:
        yield from store.transact(work)


def _day_codes(claims: Iterable[Claim | StoredClaim]) -> _DayCodes:
    """The codes of the claims' lines, by date of service."""
    found: _DayCodes = {}
    for claim in claims:
        for line in claim.lines:
            found.setdefault(line.date_of_service, []).append(line.code)
    return found


def _as_claim(stored: StoredClaim) -> Claim:
    """A stored claim (its lines of the days asked for) as a claim for the engine. The values
    were validated when the claim was first judged: no second validation."""
    return Claim.model_construct(
        claim_id=stored.claim_id,
        payer=Payer(stored.payer),
        state=stored.state,
        claim_type=ClaimType(stored.claim_type),
        patient_id=stored.patient_id,
        provider_id=stored.provider_id,
        frequency_code=stored.frequency_code,
        lines=tuple(
            ClaimLine.model_construct(
                line_id=line.line_id, code=line.code, modifiers=line.modifiers,
                date_of_service=line.date_of_service, units=line.units, charge=None,
            )
            for line in stored.lines
        ),
    )


def _stored(claim: Claim, patient: str, provider: str, result: ClaimResult) -> StoredClaim:
    lines = tuple(
        StoredLine(position, decided.line_id or str(position), line.code, line.modifiers,
                   line.units, line.date_of_service, decided.decision, decided.rule_ids)
        for position, (line, decided) in enumerate(zip(claim.lines, result.lines, strict=True),
                                                    start=1)
    )
    return StoredClaim(
        patient, provider, claim.claim_id, claim.frequency_code, claim.payer.value, claim.state,
        claim.claim_type.value, lines,
    )
