"""One engine, many workers: pickled into spawned processes, shared by threads, never mutated.

The engine is loaded once per process and handed to workers; a worker must decide exactly as the
engine it came from, or a batch run on 8 cores would pay claims a single run denies.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import multiprocessing
import os
import pickle
import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import claimedit
from claimedit import ClaimResult, InvalidClaimError

_MODIFIERS = ("26", "TC", "59", "XS", "LT")


def _claims(engine: claimedit.Engine, count: int, seed: int) -> list[dict[str, Any]]:
    """Seeded claims over the pack's codes and a few others, 2014-2027, every payer type, with
    dates bunched so that same-day edits meet."""
    rng = random.Random(seed)
    codes = [*sorted({entry.code for pack in engine.packs for entry in pack.codes}),
             "99213", "77300", "A4550"]
    days = [dt.date(2014, 12, 31), dt.date(2015, 1, 1), dt.date(2024, 9, 3), dt.date(2025, 3, 3),
            dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 2, 2), dt.date(2027, 5, 5)]
    claims = []
    for number in range(count):
        chosen = rng.sample(days, rng.randint(1, 2))
        lines = [{"line_id": str(position), "code": rng.choice(codes),
                  "modifiers": rng.sample(_MODIFIERS, rng.choice((0, 1, 1, 2))),
                  "date_of_service": rng.choice(chosen).isoformat(),
                  "units": rng.choice((1, 1, 1, 2, 3))}
                 for position in range(1, rng.randint(1, 8) + 1)]
        claims.append({"claim_id": f"S{number}", "payer": rng.choice(("medicare", "medicaid",
                                                                          "commercial")),
                       "claim_type": rng.choice(("professional", "institutional")),
                       "lines": lines})
    return claims


def test_engine_pickled_into_a_spawned_process_decides_the_same(engine: claimedit.Engine) -> None:
    """A few hundred claims evaluated in a spawned worker (which receives the engine pickled and
    rebuilds it from the pack) give results identical to the local engine's, provenance
    included."""
    claims = _claims(engine, 300, seed=1)
    local = [engine.evaluate(claim) for claim in claims]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(os.getpid).result() != os.getpid()
        remote = list(pool.map(engine.evaluate, claims, chunksize=100))
    assert remote == local
    assert {result.provenance for result in remote} == {engine.provenance}


@pytest.mark.parametrize("packs", [["igrt"], ["igrt", "ncci-radonc"]])
def test_engine_pickle_round_trip(packs: list[str]) -> None:
    """pickle.loads(pickle.dumps(engine)) is an equivalent engine: same pack provenance, same
    decisions."""
    engine = claimedit.load_engine(packs)
    copy = pickle.loads(pickle.dumps(engine))
    assert isinstance(copy, claimedit.Engine)
    assert copy.provenance == engine.provenance
    claims = _claims(engine, 100, seed=2)
    assert [copy.evaluate(c) for c in claims] == [engine.evaluate(c) for c in claims]


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Make threads switch as often as possible, so that races show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("busy_switching")
@pytest.mark.parametrize("packs", [["igrt"], ["igrt", "ncci-radonc"]])
def test_one_engine_shared_by_eight_threads(packs: list[str]) -> None:
    """Eight threads evaluate the same claims at once with one fresh engine (its caches start
    empty and fill concurrently); every thread gets exactly the sequential results. Composed
    too: units (memo keys with counts), claim types (memos shared between scopes)."""
    engine = claimedit.load_engine(packs)
    claims = _claims(engine, 200, seed=3)
    expected = [engine.evaluate(claim) for claim in claims]
    shared = claimedit.Engine(engine.packs)
    start = threading.Barrier(8)

    def work(offset: int) -> list[ClaimResult]:
        start.wait()
        # Each thread walks the claims from a different place, so they meet different codes.
        order = list(range(offset * 25, len(claims))) + list(range(offset * 25))
        results = {i: shared.evaluate(claims[i]) for i in order}
        return [results[i] for i in range(len(claims))]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(work, range(8)))
    for outcome in outcomes:
        assert outcome == expected


def test_engine_is_immutable(engine: claimedit.Engine) -> None:
    """Nothing can be set on a loaded engine: new attributes and its compiled state alike."""
    with pytest.raises(AttributeError):
        engine.rules = ()  # type: ignore[attr-defined]
    # Existing attributes (the engine's own slots): a missing one would raise AttributeError
    # whether or not the engine refused changes, and the test could not fail.
    assert hasattr(engine, "_packs") and hasattr(engine, "_tables")
    with pytest.raises(AttributeError, match="immutable"):
        engine._packs = ()  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        engine._tables = {}  # type: ignore[misc]
    with pytest.raises(AttributeError):
        engine.pack = None  # type: ignore[misc]
    assert engine.pack is not None


def test_engine_attributes_cannot_be_deleted(engine: claimedit.Engine) -> None:
    """Immutable means no deletion either: ``del engine._packs`` would leave a shared engine that
    raises AttributeError in every other thread."""
    fresh = claimedit.Engine(engine.pack)
    for name in ("_packs", "_tables", "_provenance"):
        assert hasattr(fresh, name)  # a real slot: deleting a missing one proves nothing
        with pytest.raises(AttributeError, match="immutable"):
            delattr(fresh, name)
    assert fresh.pack is engine.pack
    assert fresh.evaluate({"claim_id": "D", "payer": "medicare", "lines": [
        {"code": "77387", "date_of_service": "2025-03-03"}]}).lines[0].rule_ids


def test_the_pack_behind_an_engine_is_frozen(engine: claimedit.Engine) -> None:
    """The validated pack and its models are frozen too: an engine cannot be changed through
    the pack it exposes."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        engine.pack.edits = ()  # type: ignore[misc]
    with pytest.raises(ValueError):
        engine.pack.meta.version = "0"  # type: ignore[misc]
    with pytest.raises(ValueError):
        engine.pack.edits[0].edit.decision = claimedit.Decision.ALLOW  # type: ignore[misc]


def test_results_and_errors_pickle(engine: claimedit.Engine) -> None:
    """Results and invalid-claim errors travel back from worker processes intact."""
    result = engine.evaluate(_claims(engine, 1, seed=4)[0])
    assert pickle.loads(pickle.dumps(result)) == result
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate({"claim_id": "X", "payer": "tricare", "lines": []})
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.error == caught.value.error
    assert str(copy) == str(caught.value)
