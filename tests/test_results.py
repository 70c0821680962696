"""Result types: severity of decisions, the claim summary decision, and plain serialisation."""

from __future__ import annotations

import json

import pytest

import claimedit
from claimedit import ClaimError, Decision, FieldIssue

ORDER = [Decision.ALLOW, Decision.BUNDLE, Decision.DENY]


@pytest.mark.parametrize("higher", ORDER)
@pytest.mark.parametrize("lower", ORDER)
def test_decision_severity_is_deny_over_bundle_over_allow(higher: Decision,
                                                          lower: Decision) -> None:
    """outranks() is the strict order deny > bundle > allow, and severity agrees with it."""
    assert higher.outranks(lower) is (ORDER.index(higher) > ORDER.index(lower))
    assert (higher.severity > lower.severity) is higher.outranks(lower)


def test_claim_decision_is_its_worst_line(engine: claimedit.Engine) -> None:
    """ClaimResult.decision summarises the lines: bundle and deny on one claim make it deny;
    each line keeps its own decision."""
    result = engine.evaluate({"claim_id": "C", "payer": "commercial", "lines": [
        {"code": "77385", "date_of_service": "2025-03-03"},
        {"code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-03"},
        {"code": "G6017", "modifiers": ["26"], "date_of_service": "2025-03-03"}]})
    assert [line.decision for line in result.lines] == ORDER
    assert result.decision is Decision.DENY
    allowed = engine.evaluate({"claim_id": "C", "payer": "commercial", "lines": [
        {"code": "77385", "date_of_service": "2025-03-03"}]})
    assert allowed.decision is Decision.ALLOW


def test_to_dict_is_plain_json_data(engine: claimedit.Engine) -> None:
    """to_dict() holds only JSON types (decisions and dates as strings, RARCs as lists), with
    every field a remittance needs on each reason, and the provenance."""
    result = engine.evaluate({"claim_id": "C", "payer": "medicaid", "state": "MI", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-06-09"},
        {"line_id": "2", "code": "77387", "date_of_service": "2025-06-09"}]})
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    line = data["lines"][1]
    assert line["decision"] == "bundle" and line["date_of_service"] == "2025-06-09"
    reason = line["reasons"][0]
    assert set(reason) == {"rule_id", "decision", "message", "group_code", "carc", "rarcs",
                           "citation", "source"}
    assert isinstance(reason["rarcs"], list)
    assert data["provenance"] == {"pack": "igrt", "version": engine.pack.meta.version,
                                  "content_hash": engine.pack.content_hash,
                                  "library": claimedit.__version__}


def test_claim_error_names_source_record_claim_and_field() -> None:
    """A ClaimError reads as file, record number, claim id, then field: reason."""
    error = ClaimError("claims.jsonl", 7, "C9", (FieldIssue("lines.0.code", "bad code"),
                                                 FieldIssue("", "whole record")))
    assert str(error) == "claims.jsonl: record 7 (claim C9): lines.0.code: bad code; whole record"
    assert error.to_dict()["issues"] == [
        {"field": "lines.0.code", "reason": "bad code", "type": "invalid"},
        {"field": "", "reason": "whole record", "type": "invalid"},
    ]
