"""``claimedit check`` on X12 837 and FHIR files, detected by content, and ``--format fhir``: run
as a user runs it, in process (``tests/_cli.py``: ``cli.main`` with its own standard streams;
``tests/test_cli.py`` runs the console script as a subprocess); outputs checked against the
library's results for the same records. And the core without the extras: a fresh interpreter
imports none of them, and a missing extra is an error that names it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _cli import run_cli
from fhir.resources.R4B.bundle import Bundle

import claimedit
from claimedit import ClaimError
from claimedit.adapters import fhir, x12
from claimedit.inputs import read_records

DATA = Path(__file__).resolve().parents[1] / "data"


def run(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(args, stdin=stdin)


def test_check_837p_and_837i_as_json(engine: claimedit.Engine) -> None:
    files = [DATA / "igrt_837p.x12", DATA / "igrt_837i.x12"]
    done = run("check", *files, "--format", "json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected = []
    for path in files:
        with path.open(encoding="ascii") as handle:
            for record in x12.read_x12(handle, "f"):
                result = engine.evaluate(record.data)._replace(notes=record.notes)
                expected.append(result.to_dict())
    assert printed["results"] == expected
    # The revenue-code-only line of I-3002 is not evaluated, and its result says so.
    assert printed["results"][8]["notes"] == [{
        "field": "2400[3] SV202 (segment 54)",
        "reason": "revenue code '0250' without a HCPCS code: the line is not evaluated",
        "type": "not_evaluated"}]
    assert printed["summary"]["claims"] == 10 and printed["errors"] == []


def test_check_a_malformed_837_reports_the_record_and_segment_and_goes_on() -> None:
    done = run("check", DATA / "igrt_837p_malformed.x12", "--format", "jsonl")
    assert done.returncode == 1
    lines = [json.loads(text) for text in done.stdout.splitlines()]
    assert [line["claim_id"] for line in lines if "error" not in line] == [
        "P-1001", "P-1003", "P-1004", "P-2001", "P-2003"]
    assert "record 2 (claim P-1002): 2400[2] SV101-1 (segment 35)" in done.stderr
    assert "record 6 (claim P-2002): 2400[3] SV104 (segment 118)" in done.stderr


def test_check_fhir_bundle_from_stdin_detected_by_content(engine: claimedit.Engine) -> None:
    text = (DATA / "fhir_bundle_claims.json").read_text(encoding="utf-8")
    done = run("check", "-", "--format", "jsonl", stdin=text)
    assert done.returncode == 1  # a Claim in the Bundle has no items
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    expected = []
    for record in fhir.read_fhir([text], "-"):
        if isinstance(record.data, ClaimError):
            expected.append({"error": record.data.to_dict()})
        else:
            result = engine.evaluate(record.data)._replace(notes=record.notes)
            expected.append(result.to_dict())
    assert printed == expected
    assert "item[1].productOrService" in printed[3]["notes"][0]["field"]  # B-4's drug item
    assert "Bundle.entry[5].resource.item: the Claim has no items" in done.stderr


def test_check_format_fhir_prints_claim_responses() -> None:
    done = run("check", DATA / "fhir_claim_professional.json", DATA / "igrt_837i.x12",
               "--format", "fhir")
    assert done.returncode == 0, done.stderr
    bundle = Bundle.model_validate_json(done.stdout)
    assert bundle.type == "collection"
    responses = [entry.resource for entry in bundle.entry]
    assert [r.request.reference for r in responses] == [
        "Claim/860150", "Claim/I-3001", "Claim/I-3002", "Claim/I-3003"]
    denied = responses[0].item[1]
    assert denied.itemSequence == 2
    assert [c.code for c in denied.adjudication[0].category.coding] == ["deny"]
    assert [c.code for c in denied.adjudication[1].reason.coding] == ["96"]
    assert [e.valueCoding.code for e in denied.adjudication[1].extension] == [
        "IGRT-MEDICARE-77387", "N56"]


def test_the_core_imports_none_of_the_extras() -> None:
    code = ("import sys, claimedit, claimedit.cli, claimedit.inputs, claimedit.outputs; "
            "heavy = {'fhir', 'pyx12', 'pandas', 'pyarrow', 'dask'} & set(sys.modules); "
            "print(sorted(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def _without(dependency: str, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``dependency`` unimportable and ``module`` not yet imported, as without the extra."""
    root = dependency.split(".")[0]
    for name in {root, dependency, *(name for name in sys.modules if name.split(".")[0] == root)}:
        monkeypatch.setitem(sys.modules, name, None)
    if f"claimedit.adapters.{module}" in sys.modules:
        monkeypatch.delitem(sys.modules, f"claimedit.adapters.{module}")


def test_a_missing_extra_is_an_error_record_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _without("fhir.resources", "fhir", monkeypatch)
    path = DATA / "fhir_claim_professional.json"
    with path.open(encoding="utf-8") as handle:
        [record] = read_records(handle, path.name)
    assert isinstance(record.data, ClaimError)
    assert "pip install 'claimedit[fhir]'" in record.data.issues[0].reason


def test_x12_needs_no_extra_but_validate_does(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from claimedit.cli import EXIT_ERROR, main

    _without("pyx12", "x12_validate", monkeypatch)
    path = DATA / "igrt_837p.x12"
    with path.open(encoding="utf-8") as handle:
        records = list(read_records(handle, path.name))
    assert len(records) == 7 and not any(isinstance(r.data, ClaimError) for r in records)
    assert main(["check", str(path), "--validate", "--format", "jsonl"]) == EXIT_ERROR
    assert "pip install 'claimedit[x12]'" in capsys.readouterr().err
