"""Claim history: the patient's earlier claims, so that same-day edits see across claims.

A practice that bills IMRT on one claim and the IGRT technical component on another (a split
bill, a late charge, a corrected claim) bills both the same day: with a history store, lines of
the same patient's earlier claims from the same billing provider on the same date of service
count as billed that day, for every edit that reads the day's codes. See ``docs/history.md``.

Stores: :class:`MemoryHistory` (tests), :class:`SqliteHistory` (a file, the embedded default),
:class:`PostgresHistory` (a server shared by several engines; the ``postgres`` extra).
:func:`open_history` opens one from a path or URL.

Example:
    >>> import claimedit
    >>> engine, store = claimedit.load_engine(), MemoryHistory()
    >>> def claim(claim_id, code, *modifiers):
    ...     return {"claim_id": claim_id, "payer": "commercial", "patient_id": "P3",
    ...             "provider_id": "1234567893", "lines": [
    ...                 {"code": code, "modifiers": modifiers, "date_of_service": "2025-04-07"}]}
    >>> engine.evaluate(claim("G", "G6002", "TC"), history=store).lines[0].decision
    <Decision.ALLOW: 'allow'>
    >>> later = engine.evaluate(claim("H", "77386"), history=store)
    >>> [(a.claim_id, a.line_id, a.decision.value) for a in later.adjustments]
    [('G', '1', 'bundle')]
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from claimedit.history.memory import MemoryHistory
from claimedit.history.sqlite import SqliteHistory
from claimedit.history.store import (
    HistoryError,
    HistorySession,
    HistoryStore,
    LineChange,
    StoredClaim,
    StoredLine,
    stored_form,
)
from claimedit.limits import printable

if TYPE_CHECKING:
    from claimedit.history.postgres import PostgresHistory

__all__ = [
    "HistoryError",
    "HistorySession",
    "HistoryStore",
    "LineChange",
    "MemoryHistory",
    "PostgresHistory",
    "SqliteHistory",
    "StoredClaim",
    "StoredLine",
    "open_history",
    "stored_form",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_history(location: str | os.PathLike[str], *, create: bool = True) -> HistoryStore:
    """Open a claim history store: a ``postgresql://`` (or ``postgres://``) URL opens a
    :class:`PostgresHistory` (needs the ``postgres`` extra), anything else is the path of a
    SQLite file, created when missing unless ``create=False``. ``:memory:`` gives a
    :class:`MemoryHistory`.

    Raises :class:`HistoryError` when the store cannot be opened.

    Example:
        >>> import os, tempfile, claimedit
        >>> store = claimedit.open_history(os.path.join(tempfile.mkdtemp(), "h.sqlite"))
        >>> type(store).__name__
        'SqliteHistory'
        >>> store.close()
    """
    text = os.fspath(location)
    if text.startswith(_POSTGRES_SCHEMES):
        from claimedit.history.postgres import PostgresHistory

        return PostgresHistory(text)
    if text == ":memory:":
        return MemoryHistory()
    if "://" in text:
        scheme = printable(text.split("://", 1)[0][:20])
        raise HistoryError(f"unknown history store {scheme}://: give a file path (SQLite) or a "
                           "postgresql:// URL")
    return SqliteHistory(text, create=create)


def __getattr__(name: str) -> Any:
    # PostgresHistory imports psycopg: only when asked for, so the core runs without the extra.
    if name == "PostgresHistory":
        from claimedit.history.postgres import PostgresHistory

        return PostgresHistory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
