"""Several writers at once on one history: threads sharing a store object, and processes (the
real CLI) sharing a SQLite file or a PostgreSQL database.

The race that matters: the IMRT of a patient's day judged by one writer while the IGRT TC of the
same day is judged by another. Whichever commits second must see the first, so every TC ends
bundled, and the bundle is reported once: on the TC's own result, or as an adjustment of the
IMRT's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from _history import claim, everything, truth

import claimedit
from claimedit import ClaimResult, Decision

DAY = "2025-03-03"
PATIENTS = 40
ROOT = Path(__file__).resolve().parents[1]


def _racing_claims() -> list[list[dict[str, Any]]]:
    """Two streams: the IMRT of each patient's day, and the TC of the same day."""
    imrt = [claim(f"I{n}", ("77385", DAY), patient=f"R{n}") for n in range(PATIENTS)]
    tc = [claim(f"T{n}", ("G6001-TC", DAY), ("99213", DAY), patient=f"R{n}")
          for n in range(PATIENTS)]
    return [imrt, tc]


def _check_outcome(engine: claimedit.Engine, store: claimedit.HistoryStore,
                   results: list[ClaimResult]) -> None:
    stored = everything(store, [f"R{n}" for n in range(PATIENTS)])
    assert len(stored) == 2 * PATIENTS  # nothing lost, nothing twice
    recorded = {(c.claim_id, line.line_id): line.decision for c in stored for line in c.lines}
    assert recorded == truth(engine, stored)
    bundled_by = {}
    for result in results:
        for line in result.lines:
            if line.decision is Decision.BUNDLE:
                bundled_by.setdefault((result.claim_id, line.line_id), []).append("itself")
        for adjustment in result.adjustments:
            bundled_by.setdefault((adjustment.claim_id, adjustment.line_id), []).append(
                result.claim_id)
    # every TC bundled, reported exactly once
    assert sorted(bundled_by) == sorted((f"T{n}", "1") for n in range(PATIENTS))
    assert all(len(reports) == 1 for reports in bundled_by.values()), bundled_by


def test_threads_share_one_store(engine: claimedit.Engine, shared_location: str) -> None:
    store = claimedit.open_history(shared_location)
    results: list[ClaimResult] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def work(claims: list[dict[str, Any]], batch_size: int) -> None:
        try:
            start.wait()
            if batch_size == 1:
                found = [engine.evaluate(item, history=store) for item in claims]
            else:
                found = list(engine.evaluate_many(claims, history=store, batch_size=batch_size))
            results.extend(found)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)

    imrt, tc = _racing_claims()
    # Four writers: each stream split in two halves, one by single claims, one in batches.
    threads = [threading.Thread(target=work, args=(part, size)) for part, size in (
        (imrt[::2], 1), (imrt[1::2], 3), (tc[::2], 1), (tc[1::2], 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not failures, failures
        assert len(results) == 2 * PATIENTS
        _check_outcome(engine, store, results)
    finally:
        store.close()


def test_processes_share_one_store(engine: claimedit.Engine, shared_location: str,
                                   tmp_path: Path) -> None:
    """Three `claimedit check --history` processes at once on the same store."""
    imrt, tc = _racing_claims()
    streams = [imrt, tc[: PATIENTS // 2], tc[PATIENTS // 2:]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    processes = []
    for number, claims in enumerate(streams):
        path = tmp_path / f"claims{number}.jsonl"
        path.write_text("".join(json.dumps(item) + "\n" for item in claims), "utf-8")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "claimedit", "check", str(path), "--format", "jsonl",
             "--history", shared_location],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results += [ClaimResult.from_dict(json.loads(line)) for line in out.splitlines()]
    store = claimedit.open_history(shared_location)
    try:
        _check_outcome(engine, store, results)
    finally:
        store.close()


def test_sqlite_writer_that_cannot_get_the_lock_fails_cleanly(tmp_path: Path) -> None:
    """A writer that cannot get the lock within its timeout fails with a HistoryError naming
    the store, never with a half-written claim."""
    from claimedit.history import HistoryError, SqliteHistory

    path = tmp_path / "h.sqlite"
    holder = SqliteHistory(path)
    waiter = SqliteHistory(path, timeout=0.2)
    entered = threading.Event()
    release = threading.Event()

    def hold(session: object) -> None:
        entered.set()
        release.wait(10)

    thread = threading.Thread(target=holder.transact, args=(hold,))
    thread.start()
    try:
        entered.wait(10)
        with pytest.raises(HistoryError, match=r"h\.sqlite"):
            waiter.transact(lambda session: None)
    finally:
        release.set()
        thread.join()
        holder.close()
        waiter.close()


def test_a_claim_judged_alone_does_not_wait_for_the_store(engine: claimedit.Engine,
                                                          tmp_path: Path) -> None:
    """Without patient or provider id there is nothing to look up or record: evaluating it
    takes no transaction, so a writer holding the store does not hold it up."""
    from claimedit.history import HistoryError, SqliteHistory

    path = tmp_path / "h.sqlite"
    holder = SqliteHistory(path)
    waiter = SqliteHistory(path, timeout=0.2)
    entered, release = threading.Event(), threading.Event()

    def hold(session: object) -> None:
        entered.set()
        release.wait(10)

    thread = threading.Thread(target=holder.transact, args=(hold,))
    thread.start()
    try:
        entered.wait(10)
        alone = engine.evaluate(claim("Z", ("G6001-TC", DAY), patient=None), history=waiter)
        assert alone.history is claimedit.HistoryStatus.JUDGED_ALONE
        with pytest.raises(HistoryError):  # while a claim with ids must wait for the lock
            engine.evaluate(claim("Y", ("G6001-TC", DAY)), history=waiter)
    finally:
        release.set()
        thread.join()
        holder.close()
        waiter.close()


def test_a_thread_that_ends_takes_its_connection_with_it(engine: claimedit.Engine,
                                                         shared_location: str) -> None:
    """A service that starts a thread per request must not keep a connection per request."""
    import gc

    store = claimedit.open_history(shared_location)
    try:
        for number in range(12):
            thread = threading.Thread(target=engine.evaluate, args=(
                claim(f"T{number}", ("77385", DAY)),), kwargs={"history": store})
            thread.start()
            thread.join()
            del thread
        gc.collect()
        assert len(store._pool.connections) <= 2  # type: ignore[attr-defined]  # the opener's
        assert len(store.claims_of("P1")) == 12
    finally:
        store.close()
