"""Dataframes: tables of claim lines evaluated in place, checked line by line against the
engine's results for the same claims; Arrow batches as batch engines hand them out; and the
Dask recipe on a dask.distributed cluster of two worker processes, the engine pickled into
them."""

from __future__ import annotations

import datetime as dt
import functools
import json
import pickle
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pytest

import claimedit
from claimedit.adapters.frame import (
    RESULT_COLUMNS,
    evaluate_arrow,
    evaluate_batches,
    evaluate_frame,
    result_schema,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "claims.jsonl"


def example_rows() -> list[dict[str, Any]]:
    """The example claims as one row per line, in a shuffled but fixed order."""
    rows = []
    for text in EXAMPLES.read_text(encoding="utf-8").splitlines():
        claim = json.loads(text)
        for line in claim["lines"]:
            rows.append({"claim_id": claim["claim_id"], "payer": claim["payer"],
                         "state": claim["state"], "line_id": line["line_id"],
                         "code": line["code"], "modifiers": line.get("modifiers", []),
                         "date_of_service": line["date_of_service"]})
    return [rows[(7 * i) % len(rows)] for i in range(len(rows))]  # 7 is prime to 40


def expected(engine: claimedit.Engine) -> dict[tuple[str, str], dict[str, Any]]:
    """(claim id, line id) -> the result columns the engine's own results call for."""
    out = {}
    for text in EXAMPLES.read_text(encoding="utf-8").splitlines():
        result = engine.evaluate(json.loads(text))
        for line in result.lines:
            deciding = next((r for r in line.reasons if r.decision is line.decision), None)
            out[result.claim_id, line.line_id] = {
                "decision": line.decision.value,
                "rule_ids": list(line.rule_ids),
                "group_code": deciding.group_code if deciding else None,
                "carc": deciding.carc if deciding else None,
                "rarcs": list(dict.fromkeys(r for reason in line.reasons for r in reason.rarcs)),
                "error": None,
            }
    return out


def plain(value: Any) -> Any:
    """A cell as evaluate_frame writes it: to_pandas() of Arrow gives arrays and NaN."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return None if isinstance(value, float) and pd.isna(value) else value


def check(frame: pd.DataFrame, engine: claimedit.Engine) -> None:
    want = expected(engine)
    assert len(frame) == len(want)
    for row in frame.to_dict("records"):
        got = {name: plain(row[name]) for name in RESULT_COLUMNS}
        assert got == want[row["claim_id"], row["line_id"]]


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return pd.DataFrame(example_rows())


def test_evaluate_frame_matches_the_engine_row_by_row(lines: pd.DataFrame,
                                                      engine: claimedit.Engine) -> None:
    framed = lines.set_index(pd.Index(range(100, 100 + len(lines))))
    out = evaluate_frame(engine, framed)
    assert list(out.index) == list(framed.index)  # input order and index kept
    assert out[list(lines.columns)].equals(framed)  # input columns untouched
    assert list(out.columns) == [*lines.columns, *RESULT_COLUMNS]
    check(out, engine)


def test_dataframe_shapes_of_dates_modifiers_and_units(engine: claimedit.Engine) -> None:
    frame = pd.DataFrame({
        "Claim_ID": ["C1", "C1", "C1"],  # names are matched case-insensitively
        "payer": ["commercial"] * 3,
        "code": ["77385", "G6001", "G6001"],
        "modifier1": [None, "TC", "26"],
        "date_of_service": pd.to_datetime(["2025-03-04"] * 3),
        "units": [1.0, None, 2.0],
    })
    out = evaluate_frame(engine, frame)
    assert out["decision"].tolist() == ["allow", "bundle", "allow"]
    # A string of modifiers is split as in CSV; a list is taken as it is.
    frame = frame.drop(columns="modifier1").assign(modifiers=["", "tc, 26", ["26"]])
    assert evaluate_frame(engine, frame)["rule_ids"].tolist() == [
        [], ["IGRT-MODIFIER-26-WITH-TC", "IGRT-TC-BUNDLED-INTO-IMRT"], []]


def test_invalid_rows_get_an_error_and_the_other_claims_are_evaluated(
        engine: claimedit.Engine) -> None:
    frame = pd.DataFrame({
        "claim_id": ["C1", "C2", "C1", None, "C3", "C3"],
        "payer": ["medicare", "medicaid", "medicare", "medicare", "medicaid", "medicare"],
        "code": ["77412", "77387", "ZZ9", "77387", "77387", "77385"],
        "date_of_service": ["2025-06-02", "2025-06-09", "2025-06-02", "2025-06-02",
                            "2025-06-09", "2025-06-09"],
    })
    out = evaluate_frame(engine, frame)
    assert out["decision"].tolist() == [None, "allow", None, None, None, None]
    error = out["error"].tolist()
    assert error[0] == error[2]
    assert error[0].startswith("row 2 code: 'ZZ9' is not a CPT or HCPCS code")
    assert error[1] is None
    assert error[3] == "row 3 claim_id: missing"
    assert error[4] == error[5] == (
        "row 5 payer: 'medicare' differs from 'medicaid' in row 4 of the same claim C3")


def test_a_missing_required_column_is_a_usage_error(engine: claimedit.Engine) -> None:
    with pytest.raises(ValueError, match=r"lacks the column\(s\) date_of_service"):
        evaluate_frame(engine, pd.DataFrame({"claim_id": ["C"], "payer": ["medicare"],
                                             "code": ["77387"]}))


def test_evaluating_again_replaces_the_result_columns(lines: pd.DataFrame,
                                                      engine: claimedit.Engine) -> None:
    once = evaluate_frame(engine, lines)
    twice = evaluate_frame(engine, once)
    assert list(twice.columns) == list(once.columns)
    assert twice.equals(once)


def test_evaluate_arrow_table_and_batch(lines: pd.DataFrame, engine: claimedit.Engine) -> None:
    table = pa.Table.from_pandas(lines, preserve_index=False)
    out = evaluate_arrow(engine, table)
    assert isinstance(out, pa.Table)
    assert out.schema == result_schema(table.schema)
    assert [out.schema.field(name).type for name in RESULT_COLUMNS] == list(RESULT_COLUMNS.values())
    check(out.to_pandas(), engine)
    [batch] = table.to_batches()
    out_batch = evaluate_arrow(engine, batch)
    assert isinstance(out_batch, pa.RecordBatch)
    assert pa.Table.from_batches([out_batch]).equals(out)


def test_arrow_dates_are_dates(engine: claimedit.Engine) -> None:
    table = pa.table({"claim_id": ["C1", "C1"], "payer": ["commercial"] * 2,
                      "code": ["77385", "G6001"], "modifiers": [[], ["TC"]],
                      "date_of_service": pa.array([dt.date(2025, 3, 4)] * 2, pa.date32())})
    assert evaluate_arrow(engine, table).column("carc").to_pylist() == [None, "97"]


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_evaluate_batches_keeps_claims_whole_across_batch_boundaries(
        size: int, lines: pd.DataFrame, engine: claimedit.Engine) -> None:
    ordered = lines.sort_values("claim_id", kind="stable").reset_index(drop=True)
    table = pa.Table.from_pandas(ordered, preserve_index=False)
    batches = list(evaluate_batches(engine, table.to_batches(max_chunksize=size)))
    out = pa.Table.from_batches(batches, schema=result_schema(table.schema))
    assert out.equals(evaluate_arrow(engine, table))


def test_evaluate_batches_flags_claims_that_come_back(engine: claimedit.Engine) -> None:
    table = pa.table({"claim_id": ["A", "B", "A"], "payer": ["medicaid"] * 3,
                      "code": ["77385", "77385", "77387"], "date_of_service": ["2025-06-09"] * 3})
    out = pa.Table.from_batches(evaluate_batches(engine, table.to_batches(max_chunksize=1)))
    assert out.column("decision").to_pylist() == ["allow", "allow", None]
    assert out.column("error").to_pylist()[2] == (
        "row 0: rows of claim A are not contiguous: sort or partition the lines by claim_id")


# distributed warns when its scratch directory takes over a second to create: timing on a busy
# machine, not a fault of the recipe.
@pytest.mark.filterwarnings("ignore:Creating scratch directories is taking:UserWarning")
def test_dask_recipe_on_a_distributed_cluster_to_parquet(lines: pd.DataFrame,
                                                         tmp_path: Path) -> None:
    """The recipe of docs/interoperability.md end to end: a dask.distributed LocalCluster of two
    worker processes, shuffle by claim, evaluate each partition, write Parquet, read it back.
    (It used to fail at to_parquet: object columns Arrow cannot type.)"""
    distributed = pytest.importorskip("distributed", reason="the dask extra's distributed")
    import pyarrow.parquet as pq

    # The workers get the engine pickled; a round trip here first checks it is the same engine.
    engine = pickle.loads(pickle.dumps(claimedit.load_engine()))
    lines = lines.assign(modifiers=lines["modifiers"].str.join(" "))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  # A free port: the scheduler's HTTP server (/metrics) starts
                                  # even without a dashboard, and 8787 may be taken.
                                  dashboard_address=":0",
                                  local_directory=tmp_path / "scratch") as cluster, \
            distributed.Client(cluster):
        assert len(cluster.workers) == 2
        by_claim = dd.from_pandas(lines, npartitions=4).shuffle("claim_id")
        # The meta from Dask's own (its column types, strings converted), as in the recipe.
        meta = evaluate_frame(engine, by_claim._meta, dtypes="arrow")
        results = by_claim.map_partitions(
            functools.partial(evaluate_frame, engine, dtypes="arrow"), meta=meta)
        results.to_parquet(tmp_path / "results")
    table = pq.read_table(tmp_path / "results")
    assert {name: table.schema.field(name).type for name in RESULT_COLUMNS} == dict(RESULT_COLUMNS)
    back = pd.DataFrame(table.to_pylist())
    check(back, engine)
    # pandas reads it back too, with Arrow-backed columns.
    again = pd.read_parquet(tmp_path / "results", dtype_backend="pyarrow")
    assert len(again) == len(lines)


def test_arrow_dtypes_hold_the_same_results_as_objects(lines: pd.DataFrame,
                                                        engine: claimedit.Engine) -> None:
    objects = evaluate_frame(engine, lines)
    arrow = evaluate_frame(engine, lines, dtypes="arrow")
    for name, kind in RESULT_COLUMNS.items():
        assert arrow[name].dtype == pd.ArrowDtype(kind)
        assert pa.array(arrow[name]).to_pylist() == objects[name].tolist()
    with pytest.raises(ValueError, match="dtypes"):
        evaluate_frame(engine, lines, dtypes="numpy")  # type: ignore[arg-type]


def test_claim_fields_and_charge_columns_reach_the_claim(engine: claimedit.Engine) -> None:
    frame = pd.DataFrame({
        "claim_id": ["C1", "C1", "C2"], "payer": ["medicare"] * 3,
        "code": ["77385", "77387", "77387"], "date_of_service": ["2025-06-02"] * 3,
        "charge": [850.1, 180.0, None], "claim_type": ["institutional", "institutional", None],
        "patient_id": ["M1", "M1", None], "frequency_code": ["7", "7", None]})
    out = evaluate_frame(engine, frame)
    assert out["error"].tolist() == [None, None, None]
    text = frame.assign(frequency_code=["7", "8", None])
    [first, second, _] = evaluate_frame(engine, text)["error"].tolist()
    assert first == second and "frequency_code" in first  # rows of one claim must agree
    frame.loc[0, "charge"] = 1.005
    assert "charge" in evaluate_frame(engine, frame)["error"][0]  # fractions of a cent refused
    # Each column reaches the claim model (a value it refuses is named by its column).
    for column, bad in (("claim_type", "dental"), ("patient_id", "x" * 81),
                        ("provider_id", ""), ("frequency_code", "X")):
        broken = frame.assign(charge=None, **{column: [bad, bad, None]})
        assert column in evaluate_frame(engine, broken)["error"][0], column
