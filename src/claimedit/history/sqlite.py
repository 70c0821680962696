"""The embedded claim history: one SQLite file (the standard library's ``sqlite3``).

The file is in WAL mode, so readers never wait for the writer, and every transaction starts with
``BEGIN IMMEDIATE``: it takes the database's write lock before it reads, so a claim's look-up and
its recording are one atomic step even when several threads and processes write at once (a
writer waits up to ``timeout`` seconds for the lock). Each thread gets its own connection.

``synchronous=NORMAL``: in WAL mode a commit survives a crash of the process, and the last
commits before a power loss may be lost but the file stays consistent (SQLite's documented
trade-off); pass ``durable=True`` for ``synchronous=FULL``.

Example:
    >>> import os, tempfile
    >>> from claimedit.history import SqliteHistory
    >>> with SqliteHistory(os.path.join(tempfile.mkdtemp(), "history.sqlite")) as store:
    ...     store.claims_of("P1")
    []
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

from claimedit.history.store import (
    HistoryError,
    HistorySession,
    LineChange,
    StoredClaim,
    StoredLine,
    T,
    join_ids,
    split_ids,
    stored_claim,
)
from claimedit.results import Decision

__all__ = ["SqliteHistory"]

SCHEMA_VERSION = 1

# Dates are stored as proleptic Gregorian ordinals (integers): compact, and compared as numbers.
# The look-up index leads with the patient and the provider, then the date of service, so a
# claim's look-up reads only that patient's lines at that provider on those days.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS claimedit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claim_history (
    provider_id    TEXT NOT NULL,
    claim_id       TEXT NOT NULL,
    patient_id     TEXT NOT NULL,
    frequency_code TEXT NOT NULL,
    payer          TEXT NOT NULL,
    state          TEXT,
    claim_type     TEXT NOT NULL,
    last_day       INTEGER NOT NULL,
    recorded_at    TEXT NOT NULL,
    PRIMARY KEY (provider_id, claim_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claim_history_patient ON claim_history (patient_id);
CREATE INDEX IF NOT EXISTS claim_history_last_day ON claim_history (last_day);
CREATE TABLE IF NOT EXISTS claim_history_lines (
    provider_id     TEXT NOT NULL,
    claim_id        TEXT NOT NULL,
    position        INTEGER NOT NULL,
    patient_id      TEXT NOT NULL,
    date_of_service INTEGER NOT NULL,
    line_id         TEXT NOT NULL,
    code            TEXT NOT NULL,
    modifiers       TEXT NOT NULL,
    units           INTEGER NOT NULL,
    decision        TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    PRIMARY KEY (provider_id, claim_id, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claim_history_lines_day
    ON claim_history_lines (patient_id, provider_id, date_of_service);
"""

_LINE_COLUMNS = ("position, line_id, code, modifiers, units, date_of_service, decision, reasons")
_CLAIM_COLUMNS = "patient_id, provider_id, claim_id, frequency_code, payer, state, claim_type"


def claims_on_query(days: int) -> str:
    """The look-up of a patient's lines at a provider on ``days`` dates of service. INDEXED BY:
    the planner must not pick the primary key's provider prefix (one provider may hold a
    hundred thousand claims); a query the index cannot serve fails instead of scanning."""
    marks = ",".join("?" * days)
    return (
        f"SELECT l.claim_id, {_LINE_COLUMNS.replace('position', 'l.position')}, "
        "c.frequency_code, c.payer, c.state, c.claim_type "
        "FROM claim_history_lines AS l INDEXED BY claim_history_lines_day "
        "JOIN claim_history AS c ON c.provider_id = l.provider_id AND c.claim_id = l.claim_id "
        f"WHERE l.patient_id = ? AND l.provider_id = ? AND l.date_of_service IN ({marks}) "
        "ORDER BY l.claim_id, l.position"
    )


def _line(row: tuple[Any, ...]) -> StoredLine:
    position, line_id, code, modifiers, units, day, decision, reasons = row
    return StoredLine(position, line_id, code, split_ids(modifiers), units,
                      dt.date.fromordinal(day), Decision(decision), split_ids(reasons))


class _Session:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def lock(self, patient_id: str, provider_id: str, claim_id: str) -> None:
        pass  # BEGIN IMMEDIATE holds the database's write lock for the whole transaction

    def find(self, provider_id: str, claim_id: str) -> StoredClaim | None:
        row = self._db.execute(
            f"SELECT {_CLAIM_COLUMNS} FROM claim_history WHERE provider_id = ? AND claim_id = ?",
            (provider_id, claim_id),
        ).fetchone()
        if row is None:
            return None
        lines = self._db.execute(
            f"SELECT {_LINE_COLUMNS} FROM claim_history_lines "
            "WHERE provider_id = ? AND claim_id = ? ORDER BY position",
            (provider_id, claim_id),
        ).fetchall()
        return stored_claim(row, tuple(_line(line) for line in lines))

    def claims_on(
        self, patient_id: str, provider_id: str, days: Collection[dt.date]
    ) -> list[StoredClaim]:
        rows = self._db.execute(
            claims_on_query(len(days)),
            (patient_id, provider_id, *[day.toordinal() for day in days]),
        ).fetchall()
        return _group(patient_id, provider_id, rows)

    def add(self, claim: StoredClaim) -> None:
        db = self._db
        last_day = max(line.date_of_service for line in claim.lines).toordinal()
        db.execute(
            "INSERT INTO claim_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (claim.provider_id, claim.claim_id, claim.patient_id, claim.frequency_code,
             claim.payer, claim.state, claim.claim_type, last_day,
             dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
        )
        db.executemany(
            "INSERT INTO claim_history_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(claim.provider_id, claim.claim_id, line.position, claim.patient_id,
              line.date_of_service.toordinal(), line.line_id, line.code,
              join_ids(line.modifiers), line.units, line.decision.value,
              join_ids(line.reason_ids)) for line in claim.lines],
        )

    def remove(self, provider_id: str, claim_id: str) -> None:
        key = (provider_id, claim_id)
        self._db.execute(
            "DELETE FROM claim_history_lines WHERE provider_id = ? AND claim_id = ?", key
        )
        self._db.execute("DELETE FROM claim_history WHERE provider_id = ? AND claim_id = ?", key)

    def redecide(self, provider_id: str, claim_id: str, changes: Iterable[LineChange]) -> None:
        self._db.executemany(
            "UPDATE claim_history_lines SET decision = ?, reasons = ? "
            "WHERE provider_id = ? AND claim_id = ? AND position = ?",
            [(change.decision.value, join_ids(change.reason_ids), provider_id, claim_id,
              change.position) for change in changes],
        )


def _group(
    patient_id: str, provider_id: str, rows: list[tuple[Any, ...]]
) -> list[StoredClaim]:
    """Rows of (claim id, line columns..., claim columns) ordered by claim -> stored claims."""
    claims: list[StoredClaim] = []
    lines: list[StoredLine] = []
    for index, row in enumerate(rows):
        lines.append(_line(row[1:9]))
        if index + 1 == len(rows) or rows[index + 1][0] != row[0]:
            frequency, payer, state, claim_type = row[9:]
            claims.append(StoredClaim(patient_id, provider_id, row[0], frequency, payer, state,
                                      claim_type, tuple(lines)))
            lines = []
    return claims


class SqliteHistory:
    """A :class:`~claimedit.history.HistoryStore` in a SQLite file, created when missing.
    Safe for several threads (a connection each) and processes (SQLite's file locks).

    ``timeout``: seconds a writer waits for another's transaction before
    :class:`~claimedit.history.HistoryError`. ``durable``: ``synchronous=FULL``. ``create``:
    ``False`` to refuse a missing file instead of creating it.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 60.0, durable: bool = False,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise HistoryError(f"{self.path}: no claim history there")
        self._timeout = timeout
        self._synchronous = "FULL" if durable else "NORMAL"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._connect()  # fail now, not at the first claim, when the file cannot be a store

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise HistoryError("the history store is closed")
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        # A connection must not cross a fork: a child process opens its own.
        if db is not None and self._local.pid == os.getpid():
            return db
        try:
            # isolation_level=None: no implicit transactions; each one is an explicit
            # BEGIN IMMEDIATE. check_same_thread=False only so close() can close every thread's
            # connection; each connection is used by the thread that made it.
            db = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                found = db.execute(
                    "SELECT value FROM claimedit_meta WHERE key = 'schema_version'"
                ).fetchone()
                if found is None:
                    db.execute("INSERT INTO claimedit_meta VALUES ('schema_version', ?)",
                               (str(SCHEMA_VERSION),))
                elif int(found[0]) > SCHEMA_VERSION:
                    raise HistoryError(
                        f"{self.path}: a claim history of schema version {found[0]}, written by "
                        f"a newer claimedit (this one reads version {SCHEMA_VERSION})"
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: cannot open the claim history: {exc}") from exc
        with self._guard:
            self._connections.append(db)
        self._local.db = db
        self._local.pid = os.getpid()
        return db

    def transact(self, work: Callable[[HistorySession], T]) -> T:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"{self.path}: {exc} (waited {self._timeout:g} s)") from exc
        try:
            result = work(_Session(db))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise HistoryError(f"{self.path}: cannot record the claims: {exc}") from exc
        return result

    def claims_of(self, patient_id: str) -> list[StoredClaim]:
        db = self._connect()
        claims = db.execute(
            f"SELECT {_CLAIM_COLUMNS} FROM claim_history WHERE patient_id = ? "
            "ORDER BY provider_id, claim_id", (patient_id,),
        ).fetchall()
        found = []
        for row in claims:
            lines = db.execute(
                f"SELECT {_LINE_COLUMNS} FROM claim_history_lines "
                "WHERE provider_id = ? AND claim_id = ? ORDER BY position", (row[1], row[2]),
            ).fetchall()
            found.append(stored_claim(row, tuple(_line(line) for line in lines)))
        return found

    def purge(self, before: dt.date) -> int:
        def work(session: HistorySession) -> int:
            assert isinstance(session, _Session)
            db = session._db
            cutoff = before.toordinal()
            db.execute(
                "DELETE FROM claim_history_lines WHERE (provider_id, claim_id) IN "
                "(SELECT provider_id, claim_id FROM claim_history WHERE last_day < ?)", (cutoff,)
            )
            return db.execute("DELETE FROM claim_history WHERE last_day < ?", (cutoff,)).rowcount
        return self.transact(work)

    def close(self) -> None:
        with self._guard:
            self._closed = True
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()

    def __enter__(self) -> SqliteHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SqliteHistory {self.path}>"
