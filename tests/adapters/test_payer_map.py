"""Payer maps: how X12 and FHIR payer information becomes a payer type is data a plan can
change (``claimedit check --payer-map FILE``), merged over the documented defaults."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from _cli import run_cli
from pydantic import ValidationError

from claimedit import ClaimError
from claimedit.adapters import PayerMap, fhir, x12
from claimedit.inputs import read_records

DATA = Path(__file__).resolve().parents[1] / "data"
MA_TO_COMMERCIAL = {"x12_claim_filing_indicators": {"16": "commercial"}}


def _payers(path: Path, fmt: str, payer_map: PayerMap | None) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        # The X12 reader gives validated Claims, the FHIR reader claim dicts.
        return {str(claim["claim_id"]): str(claim["payer"])
                for record in read_records(handle, path.name, fmt, payer_map)
                if not isinstance(record.data, ClaimError)
                for claim in [record.data if isinstance(record.data, dict)
                              else record.data.model_dump(mode="json")]}


def test_x12_map_overrides_one_filing_indicator_and_keeps_the_defaults() -> None:
    default = _payers(DATA / "igrt_837p.x12", "x12", None)
    mapped = _payers(DATA / "igrt_837p.x12", "x12", PayerMap.model_validate(MA_TO_COMMERCIAL))
    # P-1003 is filed under SBR09 16 (Medicare Advantage HMO): Medicare by default.
    assert default["P-1003"] == "medicare" and mapped["P-1003"] == "commercial"
    assert {claim: payer for claim, payer in mapped.items() if claim != "P-1003"} == {
        claim: payer for claim, payer in default.items() if claim != "P-1003"}
    assert x12.reader_options(PayerMap())["filing_indicators"] == dict(
        x12.CLAIM_FILING_INDICATORS)


def test_fhir_map_merges_codes_system_by_system() -> None:
    sopt = next(iter(fhir.PAYER_TYPES))
    options = fhir.reader_options(PayerMap.model_validate(
        {"fhir_payer_types": {sopt: {"12": "commercial"}}, "fhir_default_payer": "medicaid"}))
    assert options["payer_types"][sopt]["12"] == "commercial"
    assert options["payer_types"][sopt]["1"] == "medicare"  # the defaults stay
    assert options["default_payer"] == "medicaid"
    # The professional example's Coverage is SOPT 121 (Medicare FFS): prefix 12 now wins.
    claim = DATA / "fhir_claim_professional.json"
    assert set(_payers(claim, "fhir", None).values()) == {"medicare"}
    mapped = PayerMap.model_validate({"fhir_payer_types": {sopt: {"12": "commercial"}}})
    assert set(_payers(claim, "fhir", mapped).values()) == {"commercial"}


def test_payer_map_refuses_unknown_keys_and_payer_types() -> None:
    with pytest.raises(ValidationError, match="tricare"):
        PayerMap.model_validate({"x12_claim_filing_indicators": {"CH": "tricare"}})
    with pytest.raises(ValidationError, match="x12_filing"):
        PayerMap.model_validate({"x12_filing": {}})


def _check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli(["check", *args])  # in process (tests/_cli.py)


def test_check_payer_map_changes_the_edits_a_claim_is_judged_under(tmp_path: Path) -> None:
    payer_map = tmp_path / "payers.yaml"
    payer_map.write_text('x12_claim_filing_indicators:\n  "16": commercial\n', encoding="utf-8")
    default = _check(DATA / "igrt_837p.x12", "--format", "jsonl")
    mapped = _check(DATA / "igrt_837p.x12", "--format", "jsonl", "--payer-map", payer_map)
    assert default.returncode == mapped.returncode == 0

    def p1003(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
        return next(item for item in map(json.loads, done.stdout.splitlines())
                    if item.get("claim_id") == "P-1003")

    # 77387 under the Medicare edits is denied; under the commercial ones it is allowed.
    assert [line["decision"] for line in p1003(default)["lines"]] == ["allow", "deny"]
    assert [line["decision"] for line in p1003(mapped)["lines"]] == ["allow", "allow"]


def test_check_payer_map_that_is_wrong_is_a_usage_error(tmp_path: Path) -> None:
    payer_map = tmp_path / "payers.yaml"
    payer_map.write_text('x12_claim_filing_indicators:\n  "CH": tricare\n', encoding="utf-8")
    done = _check(DATA / "igrt_837p.x12", "--payer-map", payer_map)
    assert done.returncode == 2
    assert "x12_claim_filing_indicators.CH" in done.stderr and "tricare" in done.stderr
