"""A claim history kept in the process's memory: for tests, notebooks and one-off runs.

Gone when the process ends; one lock serialises its transactions (a transaction that raises
leaves the store as it was).

Example:
    >>> import claimedit
    >>> from claimedit.history import MemoryHistory
    >>> engine, store = claimedit.load_engine(), MemoryHistory()
    >>> claim = {"claim_id": "A", "payer": "commercial", "patient_id": "P1",
    ...          "provider_id": "1234567893",
    ...          "lines": [{"code": "77385", "date_of_service": "2025-03-03"}]}
    >>> engine.evaluate(claim, history=store).history
    <HistoryStatus.RECORDED: 'recorded'>
    >>> [c.claim_id for c in store.claims_of("P1")]
    ['A']
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING

from claimedit.history.store import LineChange, StoredClaim, T, stored_form

if TYPE_CHECKING:
    from claimedit.claims import Claim
    from claimedit.results import ClaimResult

__all__ = ["MemoryHistory"]

_Key = tuple[str, str]  # (provider id, claim id)


class _Claims:
    """The stored claims by (provider, claim id), and their keys by (patient, provider)."""

    def __init__(self) -> None:
        self.by_key: dict[_Key, StoredClaim] = {}
        self.by_person: dict[tuple[str, str], set[_Key]] = {}
        self.arrivals = 0

    def put(self, key: _Key, claim: StoredClaim | None) -> None:
        old = self.by_key.pop(key, None)
        if old is not None:
            self.by_person[old.patient_id, old.provider_id].discard(key)
        if claim is not None:
            self.by_key[key] = claim
            self.by_person.setdefault((claim.patient_id, claim.provider_id), set()).add(key)


class _Session:
    def __init__(self, claims: _Claims) -> None:
        self._claims = claims
        # Each key's value before the transaction first changed it, to undo a failed one.
        self.undo: dict[_Key, StoredClaim | None] = {}

    def _put(self, key: _Key, claim: StoredClaim | None) -> None:
        if key not in self.undo:
            self.undo[key] = self._claims.by_key.get(key)
        self._claims.put(key, claim)

    def lock(self, patient_id: str, provider_id: str, claim_id: str) -> None:
        pass  # the store's lock is held for the whole transaction

    def find(self, provider_id: str, claim_id: str) -> StoredClaim | None:
        return self._claims.by_key.get((provider_id, claim_id))

    def claims_on(
        self, patient_id: str, provider_id: str, days: Collection[dt.date]
    ) -> list[StoredClaim]:
        found = []
        for key in sorted(self._claims.by_person.get((patient_id, provider_id), ())):
            claim = self._claims.by_key[key]
            lines = tuple(line for line in claim.lines if line.date_of_service in days)
            if lines:
                found.append(claim._replace(lines=lines))
        return found

    def look_up(
        self, patient_id: str, provider_id: str, claim_id: str, days: Collection[dt.date]
    ) -> tuple[StoredClaim | None, list[StoredClaim]]:
        same_day = self.claims_on(patient_id, provider_id, days)
        return (self.find(provider_id, claim_id),
                [claim for claim in same_day if claim.claim_id != claim_id])

    def add(self, claim: StoredClaim) -> None:
        self._claims.arrivals += 1
        self._put((claim.provider_id, claim.claim_id),
                  claim._replace(sequence=self._claims.arrivals))

    def record(self, claim: Claim, result: ClaimResult) -> None:
        self.add(stored_form(claim, result))

    def remove(self, provider_id: str, claim_id: str) -> None:
        self._put((provider_id, claim_id), None)

    def redecide(self, provider_id: str, claim_id: str, changes: Iterable[LineChange]) -> None:
        claim = self._claims.by_key[provider_id, claim_id]
        lines = list(claim.lines)
        for change in changes:
            index = change.position - 1
            lines[index] = lines[index]._replace(
                decision=change.decision, reason_ids=change.reason_ids
            )
        self._put((provider_id, claim_id), claim._replace(lines=tuple(lines)))


class MemoryHistory:
    """A :class:`~claimedit.history.HistoryStore` in memory. Thread-safe."""

    batch_claims = 2048  # one lock for the store: a batch holds it while it runs

    def __init__(self) -> None:
        self._claims = _Claims()
        self._lock = threading.RLock()

    def transact(self, work: Callable[[_Session], T]) -> T:
        with self._lock:
            session = _Session(self._claims)
            try:
                return work(session)
            except BaseException:
                for key, claim in session.undo.items():
                    self._claims.put(key, claim)
                raise

    def claims_of(self, patient_id: str) -> list[StoredClaim]:
        with self._lock:
            return [claim for _, claim in sorted(self._claims.by_key.items())
                    if claim.patient_id == patient_id]

    def purge(self, before: dt.date) -> int:
        with self._lock:
            old = [key for key, claim in self._claims.by_key.items()
                   if max(line.date_of_service for line in claim.lines) < before]
            for key in old:
                self._claims.put(key, None)
            return len(old)

    def close(self) -> None:
        pass

    def __enter__(self) -> MemoryHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
