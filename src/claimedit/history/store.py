"""The claim history store protocol, and the records it keeps.

A store keeps, per claim, who and which (patient id, billing provider id, claim id, frequency
code, and the payer type, state and claim type the claim was judged under) and, per line, what was
billed and decided (code, modifiers, units, date of service, decision, the ids of the edits that
fired). Nothing else of the patient is kept.

Every read and write of one claim (or one batch of claims) happens inside one
:meth:`HistoryStore.transact` call, which runs it as one transaction: a claim's look-up and its
recording are atomic, so two engines judging the same patient's claims at once see each other's
claims, one after the other, never half of one.

Example:
    >>> from claimedit.history import MemoryHistory
    >>> store = MemoryHistory()
    >>> store.transact(lambda session: session.find("1234567893", "A")) is None
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from claimedit.results import Decision

if TYPE_CHECKING:
    from claimedit.claims import Claim
    from claimedit.results import ClaimResult

__all__ = [
    "VOID",
    "HistoryError",
    "HistorySession",
    "HistoryStore",
    "LineChange",
    "StoredClaim",
    "StoredLine",
    "stored_form",
]

T = TypeVar("T")

VOID = "8"
"""Claim frequency code of a void (X12 CLM05-3, UB-04 type of bill third digit)."""


class HistoryError(RuntimeError):
    """The history store cannot be opened or used (a bad path or URL, a store written by a newer
    claimedit, a server that refuses the connection). Never raised for a claim's content."""


class StoredLine(NamedTuple):
    """One line of a stored claim, as billed and as last decided."""

    position: int
    """1-based position of the line in its claim."""
    line_id: str
    """The submitter's line id, or the position as text when the claim had none."""
    code: str
    modifiers: tuple[str, ...]
    units: int
    date_of_service: dt.date
    decision: Decision
    """The line's decision as last reported (updated when a later claim changes it)."""
    reason_ids: tuple[str, ...]
    """The ids of the edits behind that decision, sorted as the result's reasons are."""

    @property
    def charge(self) -> None:
        """Not stored (see docs/history.md); here so that the engine reads a stored line as a
        claim line when an earlier claim is judged again."""
        return None


class StoredClaim(NamedTuple):
    """A stored claim. From :meth:`HistorySession.claims_on`, ``lines`` holds only the lines of
    the dates asked for.

    It has the attributes the engine reads of a :class:`~claimedit.Claim` (claim id, payer,
    state, claim type, lines with their id, code, modifiers, units, date of service), so an
    earlier claim is judged again without being validated and built a second time.
    """

    patient_id: str
    provider_id: str
    claim_id: str
    frequency_code: str
    payer: str
    state: str | None
    claim_type: str
    lines: tuple[StoredLine, ...]
    sequence: int = 0
    """Order of arrival: a claim recorded later has a larger number (a replacement is a new
    arrival; the store assigns it, what ``add`` is given is ignored). Units limits count only
    the units of claims that came before (see docs/history.md)."""


def stored_claim(
    row: Sequence[Any], lines: tuple[StoredLine, ...], sequence: int
) -> StoredClaim:
    """A stored claim from a database row of (patient id, provider id, claim id, frequency
    code, payer, state, claim type), its lines and its order of arrival."""
    patient_id, provider_id, claim_id, frequency_code, payer, state, claim_type = row
    return StoredClaim(
        patient_id, provider_id, claim_id, frequency_code, payer, state, claim_type, lines,
        sequence,
    )


# tuple.__new__ with every field in order: NamedTuple's generated __new__ costs a Python frame,
# once per line of every claim recorded.
_new_stored_line = partial(tuple.__new__, StoredLine)


def stored_form(claim: Claim, result: ClaimResult) -> StoredClaim:
    """What a store keeps of a judged claim: its ids and, per line, what was billed and
    decided. The claim has a patient and a provider id (claims without them are not recorded).

    Example:
        >>> import claimedit
        >>> from claimedit.claims import parse_claim
        >>> claim = parse_claim({"claim_id": "A", "payer": "commercial", "patient_id": "P1",
        ...     "provider_id": "1234567893",
        ...     "lines": [{"code": "77385", "date_of_service": "2025-03-03"}]})
        >>> stored = stored_form(claim, claimedit.load_engine().evaluate(claim))
        >>> stored.patient_id, stored.lines[0].code, stored.lines[0].decision.value
        ('P1', '77385', 'allow')
    """
    assert claim.patient_id is not None and claim.provider_id is not None
    lines = tuple([
        _new_stored_line((position, decided.line_id or str(position), line.code, line.modifiers,
                          line.units, line.date_of_service, decided.decision,
                          tuple([reason.rule_id for reason in decided.reasons])
                          if decided.reasons else ()))
        for position, (line, decided) in enumerate(zip(claim.lines, result.lines, strict=True),
                                                    start=1)
    ])
    return StoredClaim(
        claim.patient_id, claim.provider_id, claim.claim_id, claim.frequency_code,
        claim.payer.value, claim.state, claim.claim_type.value, lines,
    )


class LineChange(NamedTuple):
    """A stored line's new decision (see :meth:`HistorySession.redecide`)."""

    position: int
    decision: Decision
    reason_ids: tuple[str, ...]


class HistorySession(Protocol):
    """Reads and writes inside one transaction of a :class:`HistoryStore`."""

    def lock(self, patient_id: str, provider_id: str, claim_id: str) -> None:
        """Hold, until the transaction ends, the lock that serialises the claims of one patient
        at one provider and the versions of one claim id (stores that lock the whole database
        per transaction do nothing here)."""

    def find(self, provider_id: str, claim_id: str) -> StoredClaim | None:
        """The stored claim of that provider and claim id, with all its lines, if any."""

    def claims_on(
        self, patient_id: str, provider_id: str, days: Collection[dt.date]
    ) -> list[StoredClaim]:
        """The stored claims of a patient at a provider with a line on one of ``days``; each
        with only its lines of those days, in line order."""

    def look_up(
        self, patient_id: str, provider_id: str, claim_id: str, days: Collection[dt.date]
    ) -> tuple[StoredClaim | None, list[StoredClaim]]:
        """What judging a claim needs, in one step: :meth:`find` of the claim's id and
        :meth:`claims_on` of its patient, provider and days, without the claim of that id."""

    def add(self, claim: StoredClaim) -> None:
        """Store a claim. The caller has removed any claim of the same provider and claim id:
        adding one that is still stored is a misuse the stores need not detect (PostgreSQL
        refuses it, the memory store replaces the claim, a SQLite file stores both)."""

    def record(self, claim: Claim, result: ClaimResult) -> None:
        """Store a judged claim: the same as ``add(stored_form(claim, result))``, which is what
        a store may do; the embedded store writes its rows straight from the claim and result
        instead (once per claim judged: the stored form would be built only to be taken
        apart again). Added in 2026-12: a store written against the protocol before then
        needs this method (the judging calls it)."""

    def remove(self, provider_id: str, claim_id: str) -> None:
        """Remove the claim of that provider and claim id, and its lines."""

    def redecide(self, provider_id: str, claim_id: str, changes: Iterable[LineChange]) -> None:
        """Record new decisions for lines of a stored claim."""


class HistoryStore(Protocol):
    """Where the claims judged so far are kept. Safe to share between threads.

    Implementations: :class:`~claimedit.history.MemoryHistory` (a process's memory, for tests),
    :class:`~claimedit.history.SqliteHistory` (a file; the embedded default) and
    :class:`~claimedit.history.PostgresHistory` (a server shared by several engines).
    :func:`claimedit.open_history` opens one from a path or URL.
    """

    batch_claims: int
    """Claims a transaction for a bulk run (``claimedit check --history``), as suits the store:
    SQLite's commits cost less per claim in large batches; PostgreSQL holds two advisory locks
    a claim until the transaction ends, from a lock table its server shares between sessions."""

    def transact(self, work: Callable[[HistorySession], T]) -> T:
        """Run ``work`` in one transaction and return what it returns: committed when it
        returns, rolled back when it raises. A store may run ``work`` again after a transient
        conflict with another writer (a deadlock, a serialisation failure), so ``work`` must
        have no effect outside the session until it returns."""

    def claims_of(self, patient_id: str) -> list[StoredClaim]:
        """Every stored claim of a patient (any provider), by provider and claim id."""

    def purge(self, before: dt.date) -> int:
        """Remove the claims whose every date of service is before ``before`` (retention);
        returns how many were removed."""

    def close(self) -> None:
        """Release connections. The store cannot be used afterwards."""


def join_ids(values: Sequence[str]) -> str:
    """Modifiers and rule ids as stored: one text, comma-separated (neither holds a comma)."""
    return ",".join(values)


def split_ids(text: str) -> tuple[str, ...]:
    """The inverse of :func:`join_ids`."""
    return tuple(text.split(",")) if text else ()
