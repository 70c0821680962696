"""The dataframe adapter with a claim history: the same rules as a claim at a time."""

from __future__ import annotations

import pytest

import claimedit
from claimedit.history import HistoryStore

pd = pytest.importorskip("pandas", reason="the frame extra (pandas, pyarrow) is not installed")
pa = pytest.importorskip("pyarrow", reason="the frame extra (pandas, pyarrow) is not installed")
from claimedit.adapters.frame import evaluate_batches, evaluate_frame  # noqa: E402


def test_frame_claims_see_earlier_claims_of_the_patient(engine: claimedit.Engine,
                                                        store: HistoryStore) -> None:
    lines = pd.DataFrame({
        "claim_id": ["A", "B", "C", "D"],
        "payer": ["commercial"] * 4,
        "patient_id": ["P1", "P1", "P2", None],
        "provider_id": ["1234567893"] * 4,
        "code": ["77385", "G6001", "G6001", "G6001"],
        "modifiers": ["", "TC", "TC", "TC"],
        "date_of_service": ["2025-03-03"] * 4,
    })
    out = evaluate_frame(engine, lines, history=store)
    assert out["decision"].tolist() == ["allow", "bundle", "allow", "allow"]
    assert out["carc"].tolist() == [None, "97", None, None]
    assert [c.claim_id for c in store.claims_of("P1")] == ["A", "B"]
    # without a store the split claims are judged alone, as before
    assert evaluate_frame(engine, lines)["decision"].tolist() == ["allow"] * 4


def test_batches_record_claims_as_they_go(engine: claimedit.Engine, store: HistoryStore) -> None:
    table = pa.table({
        "claim_id": ["A", "B"], "payer": ["commercial"] * 2, "patient_id": ["P1"] * 2,
        "provider_id": ["1234567893"] * 2, "frequency_code": ["1", "1"],
        "code": ["77386", "G6002"], "modifiers": [[], ["TC"]],
        "date_of_service": ["2025-04-07"] * 2,
    })
    out = pa.Table.from_batches(evaluate_batches(engine, table.to_batches(max_chunksize=1),
                                                 history=store))
    assert out.column("decision").to_pylist() == ["allow", "bundle"]


def test_rows_of_a_claim_must_agree_on_the_patient(engine: claimedit.Engine) -> None:
    lines = pd.DataFrame({
        "claim_id": ["A", "A"], "payer": ["commercial"] * 2, "patient_id": ["P1", "P2"],
        "code": ["77385", "G6001"], "date_of_service": ["2025-03-03"] * 2,
    })
    out = evaluate_frame(engine, lines)
    # The patient ids are named, never repeated (as the CSV reader's conflict message).
    assert out["error"].tolist() == [
        "row 1 patient_id: differs from row 0 of the same claim A"] * 2
