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
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claimedit.history._connections import PerThreadConnections
from claimedit.history.store import (
    HistoryError,
    HistorySession,
    LineChange,
    StoredClaim,
    StoredLine,
    T,
    stored_claim,
)
from claimedit.limits import printable, remember
from claimedit.results import Decision

if TYPE_CHECKING:
    from claimedit.claims import Claim
    from claimedit.results import ClaimResult

__all__ = ["SqliteHistory"]

SCHEMA_VERSION = 1
_PAGE_SIZE = 16384
_CHECKPOINT_PAGES = 4000

# One row per claim and date of service, its lines of that day packed as JSON. A claim's look-up
# reads one range of the (patient, provider, date) index, and recording a claim writes about
# two rows (a claim has 1-3 dates) instead of a row per line and a claim row, each with its own
# index entries. The rows themselves are appended in rowid order; only the two indexes take
# patients in random order (measured: a WITHOUT ROWID table clustered on the look-up key, whose
# inserts land at random places with the whole row, cost about 10 % more per claim). The second
# index finds a claim by claim id and provider, for replacements and voids; it leads with the
# claim id, so that the planner, which has no statistics on a new file, cannot mistake it for a
# way to the look-up. Dates are proleptic Gregorian ordinals (integers).
# The day index holds the look-up key only, not the claim id, and is not unique: an entry a
# third smaller means fewer index pages, and fewer written per committed batch (the store
# itself keeps one row per claim and date: a claim's rows are removed before it is recorded
# again). Files made before 2026-12 have a unique index of the same name that adds the claim
# id; the queries are the same for both.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS claimedit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claim_history (
    patient_id      TEXT NOT NULL,
    provider_id     TEXT NOT NULL,
    date_of_service INTEGER NOT NULL,
    claim_id        TEXT NOT NULL,
    frequency_code  TEXT NOT NULL,
    payer           TEXT NOT NULL,
    state           TEXT,
    claim_type      TEXT NOT NULL,
    lines           TEXT NOT NULL,
    recorded_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claim_history_day
    ON claim_history (patient_id, provider_id, date_of_service);
CREATE INDEX IF NOT EXISTS claim_history_claim ON claim_history (claim_id, provider_id);
"""
# ``lines``: a JSON array of [position, line_id, code, [modifiers], units, decision, [rule ids]].

# rowid last: rows are appended, so it is the claim's order of arrival (StoredClaim.sequence).
_COLUMNS = ("patient_id, provider_id, claim_id, frequency_code, payer, state, claim_type, "
            "date_of_service, lines, rowid")


def claims_on_query(days: int) -> str:
    """The look-up of a patient's claims at a provider on ``days`` dates of service: a range of
    the primary key."""
    marks = ",".join("?" * days)
    return (f"SELECT {_COLUMNS} FROM claim_history INDEXED BY claim_history_day "
            f"WHERE patient_id = ? AND provider_id = ? AND date_of_service IN ({marks}) "
            "ORDER BY claim_id, date_of_service")


_FIND = (f"SELECT {_COLUMNS} FROM claim_history INDEXED BY claim_history_claim "
         "WHERE claim_id = ? AND provider_id = ? ORDER BY date_of_service")


@functools.cache  # one text per number of days (1-3 in practice), not one per claim
def look_up_query(days: int) -> str:
    """The rows of a patient's claims at a provider on ``days`` dates of service, and the rows
    of the claim of a given id at that provider, in one statement (SQLite reads each through
    its own index and returns a row found by both once): one step per claim instead of two.
    Unordered: most claims find nothing, and sorting what is found costs less in Python than
    SQLite's sorter costs every claim."""
    marks = ",".join("?" * days)
    return (f"SELECT {_COLUMNS} FROM claim_history "
            f"WHERE (patient_id = ? AND provider_id = ? AND date_of_service IN ({marks})) "
            "OR (claim_id = ? AND provider_id = ?)")

_ordinal = dt.date.toordinal  # (map over it: no Python frame per claim)
_INSERT = "INSERT INTO claim_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

# Decision(text) is a Python-level enum look-up, costly once per stored line.
_DECISIONS = {decision.value: decision for decision in Decision}


def _claims(rows: list[tuple[Any, ...]]) -> list[StoredClaim]:
    """Rows of one or more claims, each claim's rows together -> stored claims, lines in
    position order."""
    claims: list[StoredClaim] = []
    lines: list[StoredLine] = []
    for index, row in enumerate(rows):
        day = dt.date.fromordinal(row[7])
        lines += [StoredLine(position, line_id, code, tuple(modifiers), units, day,
                             _DECISIONS[decision], tuple(reasons))
                  for position, line_id, code, modifiers, units, decision, reasons
                  in json.loads(row[8])]
        following = rows[index + 1] if index + 1 < len(rows) else None
        if following is None or following[1:3] != row[1:3]:
            lines.sort(key=_position)
            claims.append(stored_claim(row[:7], tuple(lines), row[9]))
            lines = []
    return claims


def _position(line: StoredLine) -> int:
    return line.position


def _claim_then_day(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row[2], row[7]  # claim id, date of service


def _rows(claim: StoredClaim, recorded_at: str) -> list[tuple[Any, ...]]:
    """A stored claim's rows: one per date of service."""
    days: dict[dt.date, list[str]] = {}
    for line in claim.lines:
        days.setdefault(line.date_of_service, []).append(_line_json(
            line.position, line.line_id, line.code, line.modifiers, line.units, line.decision,
            line.reason_ids))
    return [(claim.patient_id, claim.provider_id, day.toordinal(), claim.claim_id,
             claim.frequency_code, claim.payer, claim.state, claim.claim_type,
             f"[{','.join(lines)}]", recorded_at)
            for day, lines in days.items()]


def _claim_rows(claim: Claim, result: ClaimResult, recorded_at: str) -> list[tuple[Any, ...]]:
    """A judged claim's rows, the same as ``_rows(stored_form(claim, result))`` without the
    stored form in between, and with :func:`_line_json` inline: this runs once per claim
    recorded, its loop once per line."""
    days: dict[dt.date, list[str]] = {}
    known = _ENCODED.get
    position = 0
    for line, decided in zip(claim.lines, result.lines, strict=True):
        position += 1  # noqa: SIM113 - enumerate over zip costs a tuple more per line
        line_id, code, modifiers, day, decision, reasons, _, _ = decided
        line_id = line_id or str(position)  # (the engine gives every line an id)
        rule_ids = _json_list(tuple([reason.rule_id for reason in reasons])) if reasons else "[]"
        text = (f"[{position:d},{known(line_id) or _json(line_id)},"
                f"{known(code) or _json(code)},{known(modifiers) or _json_list(modifiers)},"
                f"{line.units:d},{_DECISION_JSON[decision]},{rule_ids}]")
        found = days.get(day)
        if found is None:
            days[day] = [text]
        else:
            found.append(text)
    assert claim.patient_id is not None and claim.provider_id is not None
    # ``_value_``: the enum member's value as an attribute (``.value`` is a Python property).
    claim_fields = (claim.claim_id, claim.frequency_code, claim.payer._value_, claim.state,
                    claim.claim_type._value_)
    return [(claim.patient_id, claim.provider_id, day.toordinal(), *claim_fields,
             f"[{','.join(lines)}]", recorded_at)
            for day, lines in days.items()]


def _line_json(position: int, line_id: str, code: str, modifiers: tuple[str, ...], units: int,
               decision: Decision, rule_ids: tuple[str, ...]) -> str:
    """A stored line's JSON, ``[position, line_id, code, [modifiers], units, decision,
    [rule ids]]``, built directly (``json.dumps`` costs several times more for a list this
    small) from the JSON of its parts, which repeat from claim to claim (codes, modifiers, line
    ids, rule ids) and so come from a cache; no encoding is empty, so ``or`` falls back to
    encoding only on a miss."""
    known = _ENCODED.get
    return (f"[{position:d},{known(line_id) or _json(line_id)},{known(code) or _json(code)},"
            f"{known(modifiers) or _json_list(modifiers)},{units:d},{_DECISION_JSON[decision]},"
            f"{known(rule_ids) or _json_list(rule_ids)}]")


_DECISION_JSON = {decision: f'"{decision.value}"' for decision in Decision}
# Texts and lists of texts already encoded as JSON, bounded: emptied when full (codes, modifiers
# and rule ids are a small set; line ids mostly "1", "2", ...). Shared by threads: a lost or
# repeated entry costs one encoding, never a wrong one.
_ENCODED: dict[str | tuple[str, ...], str] = {}
_ENCODED_LIMIT = 4096


def _json(text: str) -> str:
    """``text`` as a JSON string literal (the json module's C string encoder), cached."""
    found = _ENCODED.get(text)
    if found is None:
        found = remember(_ENCODED, text, encode_basestring_ascii(text), _ENCODED_LIMIT)
    return found


def _json_list(texts: tuple[str, ...]) -> str:
    """``texts`` as a JSON array of strings, cached."""
    found = _ENCODED.get(texts)
    if found is None:
        found = remember(_ENCODED, texts,
                         f"[{','.join([encode_basestring_ascii(text) for text in texts])}]",
                         _ENCODED_LIMIT)
    return found


class _Session:
    """One transaction's reads and writes. The claims it records are staged and inserted
    together (one ``executemany``): before a read that could find them (a look-up of the same
    patient and provider, or of the same claim id), before any other write, and before the
    commit. The database answers every read as if each claim had been inserted at once, in the
    same order (rowids, the order of arrival, included); inserting the rows of many claims in one
    step costs less than one statement a claim (measured: docs/performance.md)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        # Claims recorded (a claim and its result, encoded when written: the encoding of many
        # claims in one loop costs less than one at a time between other work) or added (their
        # rows), in order of arrival.
        self._staged: list[tuple[Claim, ClaimResult] | list[tuple[Any, ...]]] = []
        self._staged_people: set[tuple[str, str]] = set()  # (patient id, provider id)
        self._staged_claims: set[tuple[str, str]] = set()  # (provider id, claim id)

    def _write_staged(self) -> None:
        if self._staged:
            rows: list[tuple[Any, ...]] = []
            now = self._now
            for staged in self._staged:
                rows += staged if isinstance(staged, list) else _claim_rows(*staged, now)
            self._db.executemany(_INSERT, rows)
            self._staged = []
            self._staged_people.clear()
            self._staged_claims.clear()

    def _stage(self, patient_id: str, provider_id: str, claim_id: str,
               staged: tuple[Claim, ClaimResult] | list[tuple[Any, ...]]) -> None:
        self._staged.append(staged)
        self._staged_people.add((patient_id, provider_id))
        self._staged_claims.add((provider_id, claim_id))

    def lock(self, patient_id: str, provider_id: str, claim_id: str) -> None:
        pass  # BEGIN IMMEDIATE holds the database's write lock for the whole transaction

    def find(self, provider_id: str, claim_id: str) -> StoredClaim | None:
        if (provider_id, claim_id) in self._staged_claims:
            self._write_staged()
        found = _claims(self._db.execute(_FIND, (claim_id, provider_id)).fetchall())
        return found[0] if found else None

    def look_up(
        self, patient_id: str, provider_id: str, claim_id: str, days: Collection[dt.date]
    ) -> tuple[StoredClaim | None, list[StoredClaim]]:
        if self._staged and ((patient_id, provider_id) in self._staged_people
                             or (provider_id, claim_id) in self._staged_claims):
            self._write_staged()
        rows = self._db.execute(
            look_up_query(len(days)),
            (patient_id, provider_id, *map(_ordinal, days), claim_id, provider_id),
        ).fetchall()
        if not rows:
            return None, []  # the common case: a new claim, nothing else on its days
        rows.sort(key=_claim_then_day)
        # Every row is of this provider: those of this claim id are the stored version.
        prior = _claims([row for row in rows if row[2] == claim_id])
        return (prior[0] if prior else None), _claims([row for row in rows if row[2] != claim_id])

    def claims_on(
        self, patient_id: str, provider_id: str, days: Collection[dt.date]
    ) -> list[StoredClaim]:
        if (patient_id, provider_id) in self._staged_people:
            self._write_staged()
        return _claims(self._db.execute(
            claims_on_query(len(days)),
            (patient_id, provider_id, *map(_ordinal, days)),
        ).fetchall())

    def add(self, claim: StoredClaim) -> None:
        self._stage(claim.patient_id, claim.provider_id, claim.claim_id,
                    _rows(claim, self._now))

    def record(self, claim: Claim, result: ClaimResult) -> None:
        assert claim.patient_id is not None and claim.provider_id is not None
        self._stage(claim.patient_id, claim.provider_id, claim.claim_id, (claim, result))

    def remove(self, provider_id: str, claim_id: str) -> None:
        self._write_staged()
        self._db.execute(
            "DELETE FROM claim_history INDEXED BY claim_history_claim "
            "WHERE claim_id = ? AND provider_id = ?", (claim_id, provider_id),
        )

    def redecide(self, provider_id: str, claim_id: str, changes: Iterable[LineChange]) -> None:
        self._write_staged()
        stored = self.find(provider_id, claim_id)
        if stored is None:
            raise KeyError((provider_id, claim_id))
        changed = {change.position: change for change in changes}
        lines = tuple(
            line._replace(decision=changed[line.position].decision,
                          reason_ids=changed[line.position].reason_ids)
            if line.position in changed else line
            for line in stored.lines
        )
        days = {line.date_of_service for line in stored.lines if line.position in changed}
        self._db.executemany(
            "UPDATE claim_history SET lines = ? WHERE patient_id = ? AND provider_id = ? "
            "AND date_of_service = ? AND claim_id = ?",
            [(row[8], row[0], row[1], row[2], row[3])
             for row in _rows(stored._replace(lines=lines), self._now)
             if dt.date.fromordinal(row[2]) in days],
        )


class SqliteHistory:
    """A :class:`~claimedit.history.HistoryStore` in a SQLite file, created when missing.
    Safe for several threads (a connection each) and processes (SQLite's file locks).

    ``timeout``: seconds a writer waits for another's transaction before
    :class:`~claimedit.history.HistoryError`. ``durable``: ``synchronous=FULL``. ``create``:
    ``False`` to refuse a missing file instead of creating it.
    """

    # Claims a transaction for a file run: a commit writes every page the batch dirtied, and
    # with patients in random order the day index's inserts land on pages all over it, so a
    # larger batch shares more of them (measured over 1,000,000 lines: 8,192 a batch cost 4 %
    # less CPU than 2,048, 16,384 about the same as 8,192 for 45 MB more memory;
    # docs/performance.md). A batch holds the file's write lock while it runs: about half a
    # second.
    batch_claims = 8192

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 60.0, durable: bool = False,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        self._name = printable(str(self.path))  # for messages: one line, no control characters
        if not create and not self.path.is_file():
            raise HistoryError(f"{self._name}: no claim history there")
        self._timeout = timeout
        self._synchronous = "FULL" if durable else "NORMAL"
        self._pool: PerThreadConnections[sqlite3.Connection] = PerThreadConnections()
        self._connect()  # fail now, not at the first claim, when the file cannot be a store

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = self._pool.current()
        if db is not None:
            return db
        try:
            # isolation_level=None: no implicit transactions; each one is an explicit
            # BEGIN IMMEDIATE. check_same_thread=False only so close() can close every thread's
            # connection; each connection is used by the thread that made it.
            db = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            # 16 KB pages (for a new file; an existing file keeps its own): the index inserts
            # land on random pages, and a commit writes each page it dirtied; larger pages
            # mean fewer of them and a shallower tree (measured: docs/performance.md).
            db.execute(f"PRAGMA page_size={_PAGE_SIZE}")
            db.execute("PRAGMA journal_mode=WAL")
            # Copy the log into the file every 4,000 pages (64 MB) rather than SQLite's 1,000:
            # a batch of claims rewrites index pages that the next batches rewrite again, and a
            # page checkpointed once per several batches is written to the file once (measured:
            # docs/performance.md). The log stays at that size on disk while the store is open.
            db.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            db.execute("PRAGMA cache_size=-65536")
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
                        f"{self._name}: a claim history of schema version {found[0]}, written by "
                        f"a newer claimedit (this one reads version {SCHEMA_VERSION})"
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(f"{self._name}: cannot open the claim history: {exc}") from exc
        return self._pool.register(db)

    def transact(self, work: Callable[[HistorySession], T]) -> T:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"{self._name}: {exc} (waited {self._timeout:g} s)") from exc
        try:
            session = _Session(db)
            result = work(session)
            session._write_staged()
        except BaseException as exc:
            if db.in_transaction:  # (SQLite ends some transactions itself, on a full disk)
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                # The file failed (full disk, I/O error), not a claim: the run must stop, not
                # judge each claim again one by one only to fail the same way.
                raise HistoryError(f"{self._name}: cannot record the claims: {exc}") from exc
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise HistoryError(f"{self._name}: cannot record the claims: {exc}") from exc
        return result

    def claims_of(self, patient_id: str) -> list[StoredClaim]:
        return _claims(self._connect().execute(
            f"SELECT {_COLUMNS} FROM claim_history WHERE patient_id = ? "
            "ORDER BY provider_id, claim_id, date_of_service", (patient_id,),
        ).fetchall())

    def purge(self, before: dt.date) -> int:
        # A retention job, run rarely: it reads the claim index whole.
        def work(session: HistorySession) -> int:
            assert isinstance(session, _Session)
            db = session._db
            db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS purged (provider_id TEXT, claim_id TEXT)")
            db.execute("DELETE FROM purged")
            db.execute(
                "INSERT INTO purged SELECT provider_id, claim_id FROM claim_history "
                "GROUP BY provider_id, claim_id HAVING max(date_of_service) < ?",
                (before.toordinal(),),
            )
            db.execute("DELETE FROM claim_history WHERE (provider_id, claim_id) IN "
                       "(SELECT provider_id, claim_id FROM purged)")
            count: int = db.execute("SELECT count(*) FROM purged").fetchone()[0]
            db.execute("DELETE FROM purged")
            return count
        return self.transact(work)

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used after."""
        self._pool.close_all()

    def __enter__(self) -> SqliteHistory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SqliteHistory {self.path}>"
