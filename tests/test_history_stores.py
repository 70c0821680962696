"""The store protocol, held to one behaviour by memory, SQLite and PostgreSQL alike; and what
each real database must guarantee (the look-up index, the schema version, what is stored)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from _history import needs_postgres
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit
from claimedit import Decision
from claimedit.history import (
    HistoryError,
    HistorySession,
    HistoryStore,
    LineChange,
    SqliteHistory,
    StoredClaim,
    StoredLine,
    stored_form,
)

D1, D2, D3 = dt.date(2025, 3, 3), dt.date(2025, 3, 4), dt.date(2025, 3, 5)


def _claim(claim_id: str, *days: dt.date, patient: str = "P1",
           provider: str = "1234567893") -> StoredClaim:
    lines = tuple(StoredLine(n, str(n), "G6001", ("TC", "59"), n, day, Decision.ALLOW, ())
                  for n, day in enumerate(days, start=1))
    return StoredClaim(patient, provider, claim_id, "1", "medicaid", "NY", "institutional", lines)


def test_protocol_round_trip(store: HistoryStore) -> None:
    def write(session: HistorySession) -> None:
        session.add(_claim("A", D1, D2, D3))
        session.add(_claim("B", D2))
        session.add(_claim("C", D2, patient="P2"))
        session.add(_claim("D", D2, provider="1111111112"))

    store.transact(write)
    found = store.transact(lambda session: session.find("1234567893", "A"))
    assert found is not None
    assert found._replace(sequence=0) == _claim("A", D1, D2, D3)  # every field as it went in
    # the order of arrival, as the store numbers it
    second = store.transact(lambda session: session.find("1234567893", "B"))
    assert second is not None and second.sequence > found.sequence
    assert store.transact(lambda session: session.find("1234567893", "C")) is not None
    assert store.transact(lambda session: session.find("1111111112", "A")) is None

    on = store.transact(lambda session: session.claims_on("P1", "1234567893", [D2, D3]))
    assert [(c.claim_id, [line.position for line in c.lines]) for c in on] == [
        ("A", [2, 3]), ("B", [1])]  # only the lines of those days; other patients, providers out
    before = D1 - dt.timedelta(days=1)
    assert store.transact(lambda session: session.claims_on("P1", "1234567893", [before])) == []

    store.transact(lambda session: session.redecide(
        "1234567893", "A", [LineChange(2, Decision.BUNDLE, ("IGRT-TC-BUNDLED-INTO-IMRT",))]))
    store.transact(lambda session: session.remove("1234567893", "B"))
    stored = store.claims_of("P1")
    assert [(c.provider_id, c.claim_id) for c in stored] == [
        ("1111111112", "D"), ("1234567893", "A")]
    assert stored[1].lines[1].decision is Decision.BUNDLE
    assert stored[1].lines[1].reason_ids == ("IGRT-TC-BUNDLED-INTO-IMRT",)
    assert stored[1].lines[0].decision is Decision.ALLOW

    assert store.purge(D3) == 2  # C and D (their only day is D2); A has a line on D3
    assert [c.claim_id for c in store.claims_of("P1")] == ["A"]
    assert store.claims_of("P2") == []


def test_reads_in_a_transaction_see_its_own_writes(store: HistoryStore) -> None:
    """A claim recorded earlier in the same transaction is found by every read after it (the
    SQLite store stages its inserts and writes them before such a read), and the order of
    arrival is the order of the adds."""

    def work(session: HistorySession) -> list[str]:
        seen = []
        session.add(_claim("A", D1, D2))
        prior, same_day = session.look_up("P1", "1234567893", "B", {D2})
        seen.append(f"{prior} {[c.claim_id for c in same_day]}")
        session.add(_claim("B", D2))
        session.add(_claim("X", D2, patient="P2"))  # another patient: not in P1's look-ups
        prior, same_day = session.look_up("P1", "1234567893", "B", {D1, D2})
        seen.append(f"{prior and prior.claim_id} {[c.claim_id for c in same_day]}")
        session.add(_claim("C", D3))
        found = session.find("1234567893", "C")
        seen.append(f"{found and found.claim_id}")
        seen.append(str([c.claim_id for c in session.claims_on("P1", "1234567893", [D3])]))
        session.remove("1234567893", "C")
        seen.append(str(session.find("1234567893", "C")))
        session.add(_claim("C", D1))
        session.redecide("1234567893", "C", [LineChange(1, Decision.DENY, ("R",))])
        return seen

    assert store.transact(work) == [
        "None ['A']", "B ['A']", "C", "['C']", "None"]
    stored = {c.claim_id: c for c in store.claims_of("P1")}
    assert sorted(stored) == ["A", "B", "C"]
    assert stored["A"].sequence < stored["B"].sequence < stored["C"].sequence
    assert stored["C"].lines[0].decision is Decision.DENY
    assert [c.claim_id for c in store.claims_of("P2")] == ["X"]


def test_a_transaction_that_raises_leaves_nothing(store: HistoryStore) -> None:
    store.transact(lambda session: session.add(_claim("A", D1)))

    def fail(session: HistorySession) -> None:
        session.remove("1234567893", "A")
        session.add(_claim("B", D1))
        raise KeyError("boom")

    with pytest.raises(KeyError):
        store.transact(fail)
    assert [c.claim_id for c in store.claims_of("P1")] == ["A"]


def test_sqlite_look_ups_use_the_keys(tmp_path: Path) -> None:
    """The look-up of a claim's days is a range of the (patient, provider, date) index, and
    finding a claim by provider and claim id uses its index, never a scan: what keeps a look-up
    under a millisecond with a million claims stored (docs/performance.md)."""
    from claimedit.history.sqlite import _FIND, claims_on_query, look_up_query

    path = tmp_path / "h.sqlite"
    SqliteHistory(path).close()
    db = sqlite3.connect(path)
    on = " ".join(str(row) for row in db.execute(
        "EXPLAIN QUERY PLAN " + claims_on_query(2), ("P1", "1", 1, 2)))
    find = " ".join(str(row) for row in db.execute("EXPLAIN QUERY PLAN " + _FIND, ("1", "A")))
    # the look-up of a claim being judged: its days and its own id, each through its index
    look_up = " ".join(str(row) for row in db.execute(
        "EXPLAIN QUERY PLAN " + look_up_query(2), ("P1", "1", 1, 2, "A", "1")))
    db.close()
    assert "claim_history_day (patient_id=? AND provider_id=? AND date_of_service=?)" in look_up
    assert "claim_history_claim (claim_id=? AND provider_id=?)" in look_up
    assert "SCAN" not in look_up
    assert "SEARCH claim_history USING INDEX claim_history_day (patient_id=? AND " \
           "provider_id=? AND date_of_service=?)" in on and "SCAN" not in on
    assert "claim_history_claim (claim_id=? AND provider_id=?)" in find and "SCAN" not in find


def test_sqlite_file_is_in_wal_mode_and_stores_only_ids_codes_and_decisions(
        tmp_path: Path, engine: claimedit.Engine) -> None:
    path = tmp_path / "h.sqlite"
    with SqliteHistory(path) as sqlite:
        engine.evaluate({"claim_id": "A", "payer": "commercial", "patient_id": "P1",
                         "provider_id": "1234567893", "lines": [
                             {"code": "77385", "date_of_service": "2025-03-03",
                              "charge": "1234.50"},
                             {"code": "G6001", "modifiers": ["TC"], "units": 2,
                              "date_of_service": "2025-03-03"}]}, history=sqlite)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    columns = [row[1] for row in db.execute("PRAGMA table_info(claim_history)")]
    rows = db.execute("SELECT * FROM claim_history").fetchall()
    db.close()
    assert columns == ["patient_id", "provider_id", "date_of_service", "claim_id",
                       "frequency_code", "payer", "state", "claim_type", "lines", "recorded_at"]
    assert len(rows) == 1  # one row per claim and date of service
    assert json.loads(rows[0][8]) == [
        [1, "1", "77385", [], 1, "allow", []],
        [2, "2", "G6001", ["TC"], 2, "bundle", ["IGRT-TC-BUNDLED-INTO-IMRT"]],
    ]  # no charge, no reason text: ids, codes, units, decisions


def test_sqlite_refuses_a_store_from_a_newer_claimedit(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    SqliteHistory(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE claimedit_meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match=r"schema version 99\b"):
        SqliteHistory(path)


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    sqlite = SqliteHistory(tmp_path / "h.sqlite")
    sqlite.close()
    with pytest.raises(HistoryError, match="closed"):
        sqlite.claims_of("P1")


def test_show_does_not_create_a_store(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="no claim history"):
        claimedit.open_history(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


@needs_postgres
def test_postgres_look_up_uses_the_index(postgres_url: str) -> None:
    import psycopg

    claimedit.open_history(postgres_url).close()
    with psycopg.connect(postgres_url) as db:
        db.execute("SET enable_seqscan = off")  # an empty table: make the planner show its index
        plan = " ".join(row[0] for row in db.execute(
            "EXPLAIN SELECT * FROM claim_history_lines WHERE patient_id = 'P1' AND "
            "provider_id = '1' AND date_of_service = ANY(ARRAY['2025-03-03'::date])"))
    assert "claim_history_lines_day" in plan


@needs_postgres
def test_postgres_bad_url_is_a_history_error() -> None:
    with pytest.raises(HistoryError, match="cannot open"):
        claimedit.open_history("postgresql://nobody:wrong@localhost:1/none")


@settings(max_examples=50)
@given(line_id=st.text(max_size=20), reason=st.text(max_size=10),
       units=st.integers(1, 9999))
def test_sqlite_rows_round_trip_any_text(line_id: str, reason: str, units: int) -> None:
    """Whatever a line id holds (quotes, backslashes, control characters, emoji), a stored line
    reads back as it was written."""
    from claimedit.history.sqlite import _claims, _rows

    line = StoredLine(3, line_id, "G6001", ("TC", "59"), units, D2, Decision.BUNDLE,
                      (reason, "IGRT-TC-BUNDLED-INTO-IMRT"))
    claim = StoredClaim("P1", "1234567893", "A", "7", "medicare", "NY", "professional", (line,))
    row = _rows(claim, "2026-01-01T00:00:00+00:00")[0]
    assert json.loads(row[8]) == [[3, line_id, "G6001", ["TC", "59"], units, "bundle",
                                   [reason, "IGRT-TC-BUNDLED-INTO-IMRT"]]]
    as_read = (row[0], row[1], row[3], row[4], row[5], row[6], row[7], row[2], row[8], 41)
    assert _claims([as_read]) == [claim._replace(sequence=41)]


def test_sqlite_line_encoding_cache_is_bounded_and_encodes_as_json() -> None:
    """The JSON of codes, modifiers, line and rule ids comes from a bounded cache: a hit gives
    what an encoding gives, and the cache never holds more than its limit."""
    from claimedit.history import sqlite

    for number in range(sqlite._ENCODED_LIMIT + 50):
        text = f'L"\\{number}\u00e9'
        for _ in range(2):  # a miss, then a hit
            assert json.loads(sqlite._json(text)) == text
            assert json.loads(sqlite._json_list((text, "TC"))) == [text, "TC"]
        assert len(sqlite._ENCODED) <= sqlite._ENCODED_LIMIT
    assert sqlite._json_list(()) == "[]"


def test_record_stores_what_add_of_the_stored_form_stores(store: HistoryStore) -> None:
    """``record(claim, result)`` is ``add(stored_form(claim, result))``, whatever way a store
    writes it (SQLite writes its rows straight from the claim and result): same lines, same
    line ids (given or not), decisions, rule ids, days and claim fields."""
    from claimedit.claims import parse_claim

    engine = claimedit.load_engine()
    claim = parse_claim({
        "claim_id": "A", "payer": "medicaid", "state": "NY", "claim_type": "institutional",
        "patient_id": "P1", "provider_id": "1234567893", "frequency_code": "1",
        "lines": [
            {"line_id": "10", "code": "77385", "date_of_service": "2025-03-03"},
            {"code": "G6001", "modifiers": ["TC", "59"], "date_of_service": "2025-03-03",
             "units": 2},
            {"line_id": 'q"\\\u00e9', "code": "77387", "modifiers": ["TC"],
             "date_of_service": "2025-03-04"},
        ]})
    result = engine.evaluate(claim)
    assert {line.decision for line in result.lines} >= {Decision.ALLOW, Decision.BUNDLE}
    twin = claim.model_copy(update={"claim_id": "B"})
    store.transact(lambda session: session.record(claim, result))
    store.transact(lambda session: session.add(stored_form(twin, result)))
    recorded, added = store.claims_of("P1")
    assert recorded.claim_id == "A" and added.claim_id == "B"
    assert recorded._replace(claim_id="B", sequence=0) == added._replace(sequence=0)
    assert [line.line_id for line in recorded.lines] == ["10", "2", 'q"\\\u00e9']
    assert any(line.reason_ids for line in recorded.lines)



def test_sqlite_file_of_the_first_layout_is_read_and_written(tmp_path: Path) -> None:
    """A file made before the look-up index was narrowed (a unique index on patient, provider,
    date and claim id, 4 KB pages) keeps its index and works as before."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE claimedit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO claimedit_meta VALUES ('schema_version', '1');
        CREATE TABLE claim_history (
            patient_id TEXT NOT NULL, provider_id TEXT NOT NULL,
            date_of_service INTEGER NOT NULL, claim_id TEXT NOT NULL,
            frequency_code TEXT NOT NULL, payer TEXT NOT NULL, state TEXT,
            claim_type TEXT NOT NULL, lines TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE UNIQUE INDEX claim_history_day
            ON claim_history (patient_id, provider_id, date_of_service, claim_id);
        CREATE INDEX claim_history_claim ON claim_history (claim_id, provider_id);
    """)
    db.close()
    with SqliteHistory(path) as store:
        store.transact(lambda session: session.add(_claim("A", D1, D2)))
        prior, same_day = store.transact(
            lambda session: session.look_up("P1", "1234567893", "B", {D2}))
        assert prior is None and [c.claim_id for c in same_day] == ["A"]
        prior, same_day = store.transact(
            lambda session: session.look_up("P1", "1234567893", "A", {D3}))
        assert prior is not None and prior.claim_id == "A" and same_day == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA page_size").fetchone() == (4096,)
    index = db.execute("SELECT sql FROM sqlite_master WHERE name = 'claim_history_day'").fetchone()
    db.close()
    assert "UNIQUE" in index[0] and "claim_id" in index[0]


def test_sqlite_new_file_layout(tmp_path: Path) -> None:
    """A new file: 16 KB pages, WAL, and the narrow look-up index (docs/history.md)."""
    path = tmp_path / "new.sqlite"
    SqliteHistory(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA page_size").fetchone() == (16384,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    index = db.execute("SELECT sql FROM sqlite_master WHERE name = 'claim_history_day'").fetchone()
    db.close()
    assert "UNIQUE" not in index[0] and "claim_id" not in index[0]


# What the SQLite store's staged inserts must not change (review of 2026-12-01): each test
# fails if one of its write-outs or the look-up's regrouping is taken away.

def _one_line(claim_id: str, code: str, patient: str, frequency: str = "1") -> dict[str, object]:
    code, _, modifier = code.partition("-")
    return {"claim_id": claim_id, "payer": "commercial", "patient_id": patient,
            "provider_id": "1234567893", "frequency_code": frequency,
            "lines": [{"code": code, "modifiers": [modifier] if modifier else [],
                       "date_of_service": "2025-03-03"}]}


def _patient_correction(store: HistoryStore) -> tuple[object, object]:
    engine = claimedit.load_engine()
    engine.evaluate(_one_line("A", "77385", "P2"), history=store)  # the IMRT, on the wrong patient
    # One batch: X (the IGRT TC) meets A and is recorded for P2; then A is replaced, moved to
    # P1. Judging the replacement reads P2's claims of A's days: X must be among them, staged
    # or not, so that it is judged again (allowed, now that the IMRT is gone) and reported.
    out = list(engine.evaluate_many(
        [_one_line("X", "G6002-TC", "P2"), _one_line("A", "77385", "P1", frequency="7")],
        history=store, batch_size=100))
    last = out[1]
    assert isinstance(last, claimedit.ClaimResult)
    return ([(a.claim_id, a.decision.value) for a in last.adjustments],
            [(c.claim_id, [line.decision.value for line in c.lines])
             for c in store.claims_of("P2")])


def test_patient_correction_sees_a_claim_recorded_earlier_in_the_batch(tmp_path: Path) -> None:
    expected = _patient_correction(claimedit.history.MemoryHistory())
    assert expected == ([("X", "allow")], [("X", ["allow"])])
    with SqliteHistory(tmp_path / "h.sqlite") as store:
        assert _patient_correction(store) == expected


def test_sqlite_look_up_keeps_a_claim_of_several_days_whole(tmp_path: Path) -> None:
    """A and B both on D1 and D2: the index gives A-D1, B-D1, A-D2, B-D2; each claim comes back
    once, whole."""
    with SqliteHistory(tmp_path / "h.sqlite") as store:
        store.transact(lambda s: (s.add(_claim("A", D1, D2)), s.add(_claim("B", D1, D2))))
        prior, same = store.transact(lambda s: s.look_up("P1", "1234567893", "C", {D1, D2}))
        assert prior is None
        assert [(c.claim_id, len(c.lines)) for c in same] == [("A", 2), ("B", 2)]
        prior, same = store.transact(lambda s: s.look_up("P1", "1234567893", "A", {D1, D2}))
        assert prior is not None and len(prior.lines) == 2  # found through both indexes, once
        assert [(c.claim_id, len(c.lines)) for c in same] == [("B", 2)]


def test_add_then_remove_in_one_transaction(store: HistoryStore) -> None:
    store.transact(lambda s: (s.add(_claim("A", D1)), s.remove("1234567893", "A")))
    assert store.claims_of("P1") == []


def test_sqlite_full_disk_is_a_history_error_not_an_error_per_claim(tmp_path: Path) -> None:
    """A file that cannot grow (here: capped with max_page_count) fails the batch with a
    HistoryError, which ends a run (exit 2), instead of every claim becoming an internal error
    when the batch is judged again one claim at a time."""
    from claimedit.claims import parse_claim
    from claimedit.history.judge import judge_stream

    engine = claimedit.load_engine()
    with SqliteHistory(tmp_path / "h.sqlite") as store:
        db = store._connect()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 2}")
        claims = [parse_claim({
            "claim_id": f"C{n}", "payer": "commercial", "patient_id": f"P{n}",
            "provider_id": "1234567893",
            "lines": [{"code": "77385", "date_of_service": "2025-03-03"}]}) for n in range(500)]
        failed: list[Exception] = []

        def on_error(position: int, claim: object, exc: Exception) -> Any:
            failed.append(exc)
            raise AssertionError("a store failure judged as a claim's")

        with pytest.raises(HistoryError, match="full"):
            list(judge_stream(engine, store, claims, 500, on_error))
        assert failed == []

