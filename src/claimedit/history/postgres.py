"""The shared claim history: PostgreSQL (psycopg 3, the ``postgres`` extra), for a claims platform
running several engines on one history.

Transactions run at READ COMMITTED. What makes a claim's look-up and recording atomic is a
transaction-scoped advisory lock per patient and billing provider (and one per claim id, as a
replacement may correct the patient): two engines judging the same patient's claims at one
provider take turns, engines judging other patients never wait for each other. A batch that
deadlocks with another engine's batch (PostgreSQL detects it and aborts one) is run again.

The tables are created, when missing, in the first schema of the connection's ``search_path``
(``?options=-csearch_path%3Dclaims`` in the URL chooses one). Each thread gets its own connection.
PostgreSQL 11 or later (``hashtextextended``).

Example (with a server):
    >>> store = PostgresHistory("postgresql://claimedit@localhost/claims")  # doctest: +SKIP
    >>> engine.evaluate(claim, history=store)                               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from claimedit.adapters import MissingExtraError
from claimedit.history._connections import PerThreadConnections
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
    stored_form,
)
from claimedit.results import Decision

if TYPE_CHECKING:
    from claimedit.claims import Claim
    from claimedit.results import ClaimResult

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("postgres", "a PostgreSQL claim history", exc) from exc

__all__ = ["PostgresHistory"]

# Pipeline mode needs libpq 14 or later (the binary package ships one; a system libpq may be
# older): without it, the same statements, one round trip each.
_PIPELINE = psycopg.Pipeline.is_supported()

SCHEMA_VERSION = 1
_RETRIES = 5
# A fixed advisory-lock key (arbitrary, "claimedit" in ASCII, truncated) for creating the tables.
_SCHEMA_LOCK = 0x636C61696D65

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claimedit_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS claim_history (
    provider_id    text NOT NULL,
    claim_id       text NOT NULL,
    patient_id     text NOT NULL,
    frequency_code text NOT NULL,
    payer          text NOT NULL,
    state          text,
    claim_type     text NOT NULL,
    last_day       date NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (provider_id, claim_id)
);
CREATE INDEX IF NOT EXISTS claim_history_patient ON claim_history (patient_id);
CREATE INDEX IF NOT EXISTS claim_history_last_day ON claim_history (last_day);
CREATE TABLE IF NOT EXISTS claim_history_lines (
    provider_id     text NOT NULL,
    claim_id        text NOT NULL,
    position        integer NOT NULL,
    patient_id      text NOT NULL,
    date_of_service date NOT NULL,
    line_id         text NOT NULL,
    code            text NOT NULL,
    modifiers       text NOT NULL,
    units           integer NOT NULL,
    decision        text NOT NULL,
    reasons         text NOT NULL,
    PRIMARY KEY (provider_id, claim_id, position),
    FOREIGN KEY (provider_id, claim_id) REFERENCES claim_history ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS claim_history_lines_day
    ON claim_history_lines (patient_id, provider_id, date_of_service);
"""

# Decision(text) is a Python-level enum look-up, costly once per stored line.
_DECISIONS = {decision.value: decision for decision in Decision}

_LINE_COLUMNS = ("l.position, l.line_id, l.code, l.modifiers, l.units, l.date_of_service, "
                 "l.decision, l.reasons")
# c.seq (order of arrival, StoredClaim.sequence) comes after the line columns.
_CLAIM_COLUMNS = ("c.patient_id, c.provider_id, c.claim_id, c.frequency_code, c.payer, c.state, "
                  "c.claim_type")
_SEQUENCE = ", c.seq"
_JOIN = ("FROM claim_history AS c JOIN claim_history_lines AS l "
         "ON l.provider_id = c.provider_id AND l.claim_id = c.claim_id")


def _schema_present(db: psycopg.Connection[Any]) -> bool:
    """The tables exist: the schema version is written in the same transaction that creates
    them, so its row in the meta table means they are all there."""
    row = db.execute("SELECT to_regclass('claimedit_meta') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return False
    return db.execute(
        "SELECT 1 FROM claimedit_meta WHERE key = 'schema_version'").fetchone() is not None


def _line(row: tuple[Any, ...]) -> StoredLine:
    position, line_id, code, modifiers, units, day, decision, reasons = row
    return StoredLine(position, line_id, code, split_ids(modifiers), units, day,
                      _DECISIONS[decision], split_ids(reasons))


def _claims(rows: list[tuple[Any, ...]]) -> list[StoredClaim]:
    """Rows of (claim columns..., line columns...) ordered by claim -> stored claims."""
    claims: list[StoredClaim] = []
    lines: list[StoredLine] = []
    for index, row in enumerate(rows):
        lines.append(_line(row[7:15]))
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is None or following[1:3] != row[1:3]:
            claims.append(stored_claim(row[:7], tuple(lines), row[15]))
            lines = []
    return claims


class _Session:
    def __init__(self, db: psycopg.Connection[Any]) -> None:
        self._db = db

    def lock(self, patient_id: str, provider_id: str, claim_id: str) -> None:
        # Two keys, always taken in the same order within a claim. Keys are 64-bit hashes: two
        # pairs that collide only share a lock (they take turns), never a claim.
        keys = sorted((f"p\x1f{patient_id}\x1f{provider_id}", f"c\x1f{provider_id}\x1f{claim_id}"))
        self._db.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)), "
            "pg_advisory_xact_lock(hashtextextended(%s, 0))", keys,
        )

    def find(self, provider_id: str, claim_id: str) -> StoredClaim | None:
        rows = self._db.execute(
            f"SELECT {_CLAIM_COLUMNS}, {_LINE_COLUMNS}{_SEQUENCE} {_JOIN} "
            "WHERE c.provider_id = %s AND c.claim_id = %s ORDER BY l.position",
            (provider_id, claim_id),
        ).fetchall()
        found = _claims(rows)
        return found[0] if found else None

    def claims_on(
        self, patient_id: str, provider_id: str, days: Collection[dt.date]
    ) -> list[StoredClaim]:
        rows = self._db.execute(
            f"SELECT {_CLAIM_COLUMNS}, {_LINE_COLUMNS}{_SEQUENCE} {_JOIN} "
            "WHERE l.patient_id = %s AND l.provider_id = %s AND l.date_of_service = ANY(%s) "
            "ORDER BY l.claim_id, l.position",
            (patient_id, provider_id, list(days)),
        ).fetchall()
        return _claims(rows)

    def look_up(
        self, patient_id: str, provider_id: str, claim_id: str, days: Collection[dt.date]
    ) -> tuple[StoredClaim | None, list[StoredClaim]]:
        # One round trip: the day's other claims (flag false), then the claim's own id.
        rows = self._db.execute(
            f"SELECT {_CLAIM_COLUMNS}, {_LINE_COLUMNS}{_SEQUENCE}, false AS own {_JOIN} "
            "WHERE l.patient_id = %s AND l.provider_id = %s AND l.date_of_service = ANY(%s) "
            "AND l.claim_id <> %s "
            f"UNION ALL SELECT {_CLAIM_COLUMNS}, {_LINE_COLUMNS}{_SEQUENCE}, true {_JOIN} "
            "WHERE c.provider_id = %s AND c.claim_id = %s ORDER BY 17, 3, 8",
            (patient_id, provider_id, list(days), claim_id, provider_id, claim_id),
        ).fetchall()
        cut = next((index for index, row in enumerate(rows) if row[16]), len(rows))
        prior = _claims([row[:16] for row in rows[cut:]])
        return (prior[0] if prior else None), _claims([row[:16] for row in rows[:cut]])

    def add(self, claim: StoredClaim) -> None:
        # One statement for the claim and its lines (the lines as arrays, unnested): each
        # statement is a step of the server's, and a claim has 4-5 lines on average.
        lines = claim.lines
        self._db.execute(
            "WITH claim AS (INSERT INTO claim_history (provider_id, claim_id, patient_id, "
            "frequency_code, payer, state, claim_type, last_day) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)) "
            "INSERT INTO claim_history_lines SELECT %s, %s, position, %s, date_of_service, "
            "line_id, code, modifiers, units, decision, reasons FROM unnest("
            "%s::integer[], %s::date[], %s::text[], %s::text[], %s::text[], %s::integer[], "
            "%s::text[], %s::text[]) AS l(position, date_of_service, line_id, code, modifiers, "
            "units, decision, reasons)",
            (claim.provider_id, claim.claim_id, claim.patient_id, claim.frequency_code,
             claim.payer, claim.state, claim.claim_type,
             max(line.date_of_service for line in lines),
             claim.provider_id, claim.claim_id, claim.patient_id,
             [line.position for line in lines], [line.date_of_service for line in lines],
             [line.line_id for line in lines], [line.code for line in lines],
             [join_ids(line.modifiers) for line in lines], [line.units for line in lines],
             [line.decision.value for line in lines],
             [join_ids(line.reason_ids) for line in lines]),
        )

    def record(self, claim: Claim, result: ClaimResult) -> None:
        self.add(stored_form(claim, result))

    def remove(self, provider_id: str, claim_id: str) -> None:
        # The lines go with the claim (ON DELETE CASCADE).
        self._db.execute(
            "DELETE FROM claim_history WHERE provider_id = %s AND claim_id = %s",
            (provider_id, claim_id),
        )

    def redecide(self, provider_id: str, claim_id: str, changes: Iterable[LineChange]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(
                "UPDATE claim_history_lines SET decision = %s, reasons = %s "
                "WHERE provider_id = %s AND claim_id = %s AND position = %s",
                [(change.decision.value, join_ids(change.reason_ids), provider_id, claim_id,
                  change.position) for change in changes],
            )


class PostgresHistory:
    """A :class:`~claimedit.history.HistoryStore` in a PostgreSQL database, shared by every
    engine (thread or process) given the same URL. Tables are created when missing.

    ``url``: a libpq connection string or ``postgresql://`` URL.
    """

    # Claims a transaction for a file run. Each claim holds two transaction-scoped advisory
    # locks until its batch commits, and the server's lock table (max_locks_per_transaction x
    # max_connections: 6,400 by default) is shared by every session: 8,192 claims a batch ran
    # out of it ("out of shared memory"), and a batch this size leaves room for several engines.
    # Each claim is a round trip anyway; a commit per 500 claims costs little beside them.
    batch_claims = 500

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self._pool: PerThreadConnections[psycopg.Connection[Any]] = PerThreadConnections()
        self._connect()  # fail now, not at the first claim, when the server cannot be reached

    def _connect(self) -> psycopg.Connection[Any]:
        db: psycopg.Connection[Any] | None = self._pool.current()
        if db is not None and not db.closed:
            return db
        db = None
        try:
            db = psycopg.connect(
                self._url, connect_timeout=self._connect_timeout, autocommit=True
            )
            with db.transaction():
                # DDL only when the tables are missing, and then under the schema lock with the
                # check repeated: even a no-op CREATE INDEX IF NOT EXISTS takes a share lock on
                # its table, which deadlocks with another thread's or engine's claim transaction
                # already writing to the tables (seen with threads opening one fresh store).
                if not _schema_present(db):
                    db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    if not _schema_present(db):
                        for statement in _SCHEMA.split(";"):
                            if statement.strip():
                                db.execute(statement)  # our own text
                found = db.execute(
                    "SELECT value FROM claimedit_meta WHERE key = 'schema_version'"
                ).fetchone()
                if found is None:
                    db.execute("INSERT INTO claimedit_meta VALUES ('schema_version', %s)",
                               (str(SCHEMA_VERSION),))
                elif int(found[0]) > SCHEMA_VERSION:
                    raise HistoryError(
                        f"a claim history of schema version {found[0]}, written by a newer "
                        f"claimedit (this one reads version {SCHEMA_VERSION})"
                    )
        except HistoryError:
            if db is not None:
                db.close()
            raise
        except psycopg.Error as exc:
            if db is not None:
                db.close()
            # The message names the server, never the password (libpq leaves it out).
            raise HistoryError(f"cannot open the PostgreSQL claim history: {exc}") from exc
        return self._pool.register(db)

    def transact(self, work: Callable[[HistorySession], T]) -> T:
        db = self._connect()
        for attempt in range(1, _RETRIES + 1):
            try:
                # Pipeline mode: writes are sent without waiting for their answers, and the
                # lock and look-up of the next claim travel with them, so a claim costs one
                # round trip to the server instead of four.
                with db.pipeline() if _PIPELINE else nullcontext(), db.transaction():
                    return work(_Session(db))
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if attempt == _RETRIES:
                    raise
            except psycopg.OperationalError as exc:
                raise HistoryError(f"the PostgreSQL claim history failed: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def claims_of(self, patient_id: str) -> list[StoredClaim]:
        db = self._connect()
        with db.transaction():
            rows = db.execute(
                f"SELECT {_CLAIM_COLUMNS}, {_LINE_COLUMNS}{_SEQUENCE} {_JOIN} "
                "WHERE c.patient_id = %s "
                "ORDER BY c.provider_id, c.claim_id, l.position", (patient_id,),
            ).fetchall()
        return _claims(rows)

    def purge(self, before: dt.date) -> int:
        def work(session: HistorySession) -> int:
            assert isinstance(session, _Session)
            found = session._db.execute(
                "WITH gone AS (DELETE FROM claim_history WHERE last_day < %s RETURNING 1) "
                "SELECT count(*) FROM gone", (before,)).fetchone()
            return int(found[0]) if found else 0
        return self.transact(work)

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used after."""
        self._pool.close_all()

    def __enter__(self) -> PostgresHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<PostgresHistory>"  # never the URL: it may hold a password
