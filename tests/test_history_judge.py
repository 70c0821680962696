"""Evaluation with claim history: same-day edits across claims, replacements, voids, adjustments.

Every case runs against each store (memory, SQLite, and PostgreSQL when a server is given), so
the stores are held to one behaviour.
"""

from __future__ import annotations

import pytest
from _history import adjusted, claim, decisions, random_sequence, truth
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit
from claimedit import Decision, HistoryStatus, InvalidClaimError
from claimedit.history import HistoryStore, MemoryHistory

DAY = "2025-03-03"


def test_acceptance_sequence_of_the_issue(engine: claimedit.Engine, store: HistoryStore) -> None:
    """Issue 12's acceptance: patient P1 at provider 1234567893, then other providers, days,
    patients, a void; patient P3's IGRT TC adjusted by the IMRT that came later."""
    def run(data: dict[str, object]) -> claimedit.ClaimResult:
        return engine.evaluate(data, history=store)

    assert decisions(run(claim("A", ("77385", DAY)))) == ["allow"]
    b = run(claim("B", ("G6001-TC", DAY)))
    assert decisions(b) == ["bundle"]
    assert b.lines[0].rule_ids == ("IGRT-TC-BUNDLED-INTO-IMRT",)
    assert decisions(run(claim("C", ("G6001-TC", DAY), provider="1111111112"))) == ["allow"]
    assert decisions(run(claim("D", ("G6001-TC", "2025-03-04")))) == ["allow"]
    assert decisions(run(claim("E", ("G6001-TC", DAY), patient="P2"))) == ["allow"]

    void = run(claim("A", ("77385", DAY), frequency="8"))
    assert void.history is HistoryStatus.VOIDED
    # With the IMRT gone, B's TC is no longer bundled: the void says so.
    assert adjusted(void) == [("B", "1", "allow")]
    assert void.adjustments[0].reasons == ()
    f = run(claim("F", ("G6001-TC", DAY)))
    assert decisions(f) == ["allow"] and f.adjustments == ()

    g = run(claim("G", ("G6002-TC", "2025-04-07"), patient="P3"))
    assert decisions(g) == ["allow"] and g.history is HistoryStatus.RECORDED
    h = run(claim("H", ("77386", "2025-04-07"), patient="P3"))
    assert decisions(h) == ["allow"]
    assert adjusted(h) == [("G", "1", "bundle")]
    adjustment = h.adjustments[0]
    assert (adjustment.code, adjustment.modifiers, str(adjustment.date_of_service)) == (
        "G6002", ("TC",), "2025-04-07")
    assert [r.rule_id for r in adjustment.reasons] == ["IGRT-TC-BUNDLED-INTO-IMRT"]

    assert [(c.provider_id, c.claim_id) for c in store.claims_of("P1")] == [
        ("1111111112", "C"), ("1234567893", "B"), ("1234567893", "D"), ("1234567893", "F")]
    stored_g = next(c for c in store.claims_of("P3") if c.claim_id == "G")
    assert stored_g.lines[0].decision is Decision.BUNDLE
    assert stored_g.lines[0].reason_ids == ("IGRT-TC-BUNDLED-INTO-IMRT",)


def test_sending_a_claim_again_changes_nothing(engine: claimedit.Engine,
                                               store: HistoryStore) -> None:
    """Frequency 1 twice: the claim does not meet itself, the decisions are the same, and the
    adjustment its first run reported is not reported again (it would be recouped twice)."""
    engine.evaluate(claim("G", ("G6002-TC", DAY)), history=store)
    first = engine.evaluate(claim("H", ("77386", DAY), ("G6001-TC", DAY)), history=store)
    again = engine.evaluate(claim("H", ("77386", DAY), ("G6001-TC", DAY)), history=store)
    assert decisions(first) == decisions(again) == ["allow", "bundle"]
    assert adjusted(first) == [("G", "1", "bundle")]
    assert again.adjustments == () and again.history is HistoryStatus.REPLACED
    assert [(c.claim_id, len(c.lines)) for c in store.claims_of("P1")] == [("G", 1), ("H", 2)]


def test_replacement_replaces_the_claim_of_that_id(engine: claimedit.Engine,
                                                   store: HistoryStore) -> None:
    """A replacement (7) that drops the IMRT un-bundles the other claim's TC; it stands in
    place of the earlier claim, not beside it."""
    engine.evaluate(claim("A", ("77385", DAY)), history=store)
    assert decisions(engine.evaluate(claim("B", ("G6001-TC", DAY)), history=store)) == ["bundle"]
    replaced = engine.evaluate(claim("A", ("99213", DAY), frequency="7"), history=store)
    assert replaced.history is HistoryStatus.REPLACED
    assert adjusted(replaced) == [("B", "1", "allow")]
    stored = {c.claim_id: c for c in store.claims_of("P1")}
    assert [line.code for line in stored["A"].lines] == ["99213"]
    assert stored["A"].frequency_code == "7"
    # and the replaced IMRT no longer bundles a TC that arrives now
    assert decisions(engine.evaluate(claim("C", ("G6002-TC", DAY)), history=store)) == ["allow"]


def test_replacement_that_corrects_the_patient(engine: claimedit.Engine,
                                               store: HistoryStore) -> None:
    """A replacement sent for the right patient leaves the wrong patient's day as if the claim
    had never been there, and joins the right patient's day."""
    engine.evaluate(claim("A", ("77385", DAY), patient="P1"), history=store)
    engine.evaluate(claim("B", ("G6001-TC", DAY), patient="P1"), history=store)
    engine.evaluate(claim("X", ("G6002-TC", DAY), patient="P2"), history=store)
    moved = engine.evaluate(claim("A", ("77385", DAY), patient="P2", frequency="7"),
                            history=store)
    assert sorted(adjusted(moved)) == [("B", "1", "allow"), ("X", "1", "bundle")]
    assert [c.claim_id for c in store.claims_of("P1")] == ["B"]
    assert sorted(c.claim_id for c in store.claims_of("P2")) == ["A", "X"]


def test_void_of_a_claim_not_on_file(engine: claimedit.Engine, store: HistoryStore) -> None:
    result = engine.evaluate(claim("Q", ("77385", DAY), frequency="8"), history=store)
    assert result.history is HistoryStatus.NOT_ON_FILE
    assert store.claims_of("P1") == []


@pytest.mark.parametrize("missing", ["patient", "provider"])
def test_a_claim_without_patient_or_provider_is_judged_alone(
        engine: claimedit.Engine, store: HistoryStore, missing: str) -> None:
    engine.evaluate(claim("A", ("77385", DAY)), history=store)
    who = {missing: None}
    alone = engine.evaluate(claim("B", ("G6001-TC", DAY), **who), history=store)  # type: ignore[arg-type]
    assert alone.history is HistoryStatus.JUDGED_ALONE
    assert decisions(alone) == ["allow"]  # the IMRT on claim A is not seen
    assert alone.to_dict()["history"] == "judged_alone"
    assert [c.claim_id for c in store.claims_of("P1")] == ["A"]  # and B is not recorded


def test_without_a_store_nothing_changes(engine: claimedit.Engine) -> None:
    result = engine.evaluate(claim("A", ("77385", DAY)))
    assert result.history is None and result.adjustments == ()
    assert "history" not in result.to_dict() and '"history"' not in result.to_json()


def test_same_day_within_the_claim_and_across_claims_agree(engine: claimedit.Engine,
                                                           store: HistoryStore) -> None:
    """A line's own code counts only when another line bills it too, across claims as within
    one: two TC lines of G6001 on two claims are not a pair."""
    engine.evaluate(claim("A", ("G6001-TC", DAY)), history=store)
    assert decisions(engine.evaluate(claim("B", ("G6001-TC", DAY)), history=store)) == ["allow"]
    together = engine.evaluate(claim("Z", ("G6001-TC", DAY), ("G6001-TC", DAY)))
    assert decisions(together) == ["allow", "allow"]


def test_payer_of_each_claim_decides_its_lines(engine: claimedit.Engine,
                                               store: HistoryStore) -> None:
    """An earlier claim is judged again under its own payer type: the Medicaid 77387 TC bundle
    applies to the Medicaid claim, not to a commercial one of the same day."""
    engine.evaluate(claim("M", ("77387-TC", DAY), payer="medicaid"), history=store)
    later = engine.evaluate(claim("I", ("77385", DAY)), history=store)
    expected = engine.evaluate(claim("Z", ("77387-TC", DAY), ("77385", DAY), payer="medicaid"))
    assert [a.decision for a in later.adjustments] == (
        [expected.lines[0].decision] if expected.lines[0].decision is not Decision.ALLOW else [])


def test_evaluate_many_in_batches_sees_earlier_claims_of_the_batch(
        engine: claimedit.Engine, store: HistoryStore) -> None:
    claims = [claim("A", ("77385", DAY)), {"claim_id": "bad", "payer": "x", "lines": []},
              claim("B", ("G6001-TC", DAY))]
    out = list(engine.evaluate_many(claims, errors="collect", history=store, batch_size=2))
    assert isinstance(out[1], claimedit.ClaimError)
    assert decisions(out[2]) == ["bundle"]  # type: ignore[arg-type]
    # errors="raise": the results before the bad record come out, then the error
    seen = []
    with pytest.raises(InvalidClaimError):
        for item in engine.evaluate_many(claims, history=store):
            seen.append(item.claim_id)
    assert seen == ["A"]
    with pytest.raises(ValueError, match="batch_size"):
        list(engine.evaluate_many(claims, history=store, batch_size=0))


def test_a_failed_batch_records_nothing(engine: claimedit.Engine, store: HistoryStore) -> None:
    """A transaction that raises is rolled back: no half-recorded batch."""
    engine.evaluate(claim("A", ("77385", DAY)), history=store)

    def boom(session: object) -> None:
        from claimedit.history.judge import judge

        judge(engine, claimedit.Claim.model_validate(claim("B", ("G6001-TC", DAY))),
              session)  # type: ignore[arg-type]
        judge(engine, claimedit.Claim.model_validate(claim("A", ("99213", DAY), frequency="8")),
              session)  # type: ignore[arg-type]
        raise RuntimeError("the claims system fell over")

    with pytest.raises(RuntimeError):
        store.transact(boom)  # type: ignore[arg-type]
    assert [(c.claim_id, c.lines[0].code) for c in store.claims_of("P1")] == [("A", "77385")]


def _replay(engine: claimedit.Engine, store: HistoryStore, claims: list[dict[str, object]],
            batch_size: int) -> None:
    """Judge the claims; replay what the claims system was told (each claim's decisions, then
    adjustments, voids removing lines) and check it equals the store and the truth."""
    told: dict[tuple[str, str], Decision] = {}
    for result in engine.evaluate_many(claims, history=store, batch_size=batch_size):
        for key in [key for key in told if key[0] == result.claim_id]:
            del told[key]  # a replacement, resend or void stands in place of the earlier claim
        if result.history is not HistoryStatus.VOIDED and result.history is not (
                HistoryStatus.NOT_ON_FILE):
            for line in result.lines:
                told[result.claim_id, str(line.line_id)] = line.decision
        for adjustment in result.adjustments:
            assert (adjustment.claim_id, adjustment.line_id) in told
            assert told[adjustment.claim_id, adjustment.line_id] is not adjustment.decision
            told[adjustment.claim_id, adjustment.line_id] = adjustment.decision
    stored = [c for patient in ("P0", "P1", "P2") for c in store.claims_of(patient)]
    recorded = {(c.claim_id, line.line_id): line.decision for c in stored for line in c.lines}
    assert told == recorded
    assert recorded == truth(engine, stored)


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 25), batch_size=st.sampled_from([1, 4]))
def test_what_the_claims_system_was_told_ends_in_the_truth(
        engine: claimedit.Engine, seed: int, count: int, batch_size: int) -> None:
    """Whatever the order of originals, resends, replacements and voids, the decisions reported
    (results, then adjustments) end where judging each patient's day at once would: nothing is
    missed, nothing reported twice, and the store agrees."""
    _replay(engine, MemoryHistory(), random_sequence(seed, count, patients=3), batch_size)


@pytest.mark.parametrize("seed", range(2))
def test_every_store_reaches_the_truth(engine: claimedit.Engine, store: HistoryStore,
                                       seed: int) -> None:
    _replay(engine, store, random_sequence(seed, 40, patients=3), 8)


def test_a_units_limit_denies_the_claim_that_goes_over_it_not_the_one_paid_before(
        store: HistoryStore) -> None:
    """NCCI date-of-service MUE (77373, 1 unit, adjudication indicator 3) across claims: the
    units of the patient's earlier claims that day count, and the claim that goes over the
    limit is denied; the claim already paid is not taken back (CMS FAQ 11344: "all UOS for the
    code on the current claim"). A bundle, by contrast, applies back to the earlier claim."""
    engine = claimedit.load_engine(["igrt", "ncci-radonc"])

    def run(claim_id: str, frequency: str = "1") -> claimedit.ClaimResult:
        return engine.evaluate(claim(claim_id, ("77373", "2024-09-03"), payer="medicare",
                                     frequency=frequency), history=store)

    assert decisions(run("A")) == ["allow"]
    second = run("B")
    assert decisions(second) == ["deny"]
    assert second.lines[0].rule_ids == ("NCCI-MUE-PRACTITIONER-MAI3-1",)
    assert second.adjustments == ()  # A stays paid
    assert decisions(run("B")) == ["deny"]  # sent again: still over, still not A
    void = run("A", frequency="8")
    assert adjusted(void) == [("B", "1", "allow")]  # with A gone, B is within the limit
    assert decisions(run("C")) == ["deny"] and adjusted(run("C")) == []


def test_a_batch_run_again_takes_the_claims_it_let_go_from_again(
        engine: claimedit.Engine) -> None:
    """With ``again``, judge_stream lets each claim go once judged; a batch run again (a store
    retrying after a conflict, as PostgreSQL does after a deadlock) judges the same claims,
    made again, and reaches the same results."""
    import contextlib
    from collections.abc import Callable
    from typing import Any

    from claimedit.claims import Claim, parse_claim
    from claimedit.history.judge import judge_stream

    memory = MemoryHistory()

    class RetryingStore:
        batch_claims = 10

        def transact(self, work: Callable[[Any], Any]) -> Any:
            def fail_after(session: Any) -> Any:
                work(session)
                raise ConnectionResetError("a conflict: rolled back, run again")
            with contextlib.suppress(ConnectionResetError):
                memory.transact(fail_after)
            return memory.transact(work)

    parsed = [parse_claim(claim("A", ("77385", DAY))), parse_claim(claim("B", ("G6001-TC", DAY)))]
    made_again: list[int] = []

    def again(position: int) -> Claim:
        made_again.append(position)
        item = parsed[position]
        assert isinstance(item, Claim)
        return item

    store: Any = RetryingStore()
    results = list(judge_stream(engine, store, iter(list(parsed)), 10, None, again))
    assert made_again == [0, 1]
    assert [decisions(result) for result in results] == [["allow"], ["bundle"]]
    assert [c.claim_id for c in memory.claims_of("P1")] == ["A", "B"]
