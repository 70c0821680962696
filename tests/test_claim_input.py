"""Claim input: what a claim must look like, what is normalised, and how problems are named.

"This line is denied" is a result; "this is not a claim" is an InvalidClaimError (or a
ClaimError record in a batch) naming every field at fault by its dotted path.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import claimedit
from claimedit import ClaimError, ClaimResult, Decision, InvalidClaimError, Payer, parse_claim


def _claim(**line: Any) -> dict[str, Any]:
    """A one-line commercial claim for 77385 on 2025-03-03, with ``line`` fields replaced."""
    fields: dict[str, Any] = {"line_id": "1", "code": "77385", "date_of_service": "2025-03-03"}
    fields.update(line)
    return {"claim_id": "C1", "payer": "commercial", "lines": [fields]}


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "unknown_payer": ({**_claim(), "payer": "tricare"}, "payer"),
    "missing_payer": ({key: v for key, v in _claim().items() if key != "payer"}, "payer"),
    "code_too_short": (_claim(code="7738"), "lines.0.code"),
    "code_with_punctuation": (_claim(code="77.38"), "lines.0.code"),
    "code_of_four_digits_as_number": (_claim(code=7738), "lines.0.code"),
    "missing_code": ({"claim_id": "C1", "payer": "medicare", "lines": [
        {"date_of_service": "2025-03-03"}]}, "lines.0.code"),
    "modifier_of_one_character": (_claim(modifiers=["2"]), "lines.0.modifiers.0"),
    "modifier_of_three_characters": (_claim(modifiers=["26", "TCX"]), "lines.0.modifiers.1"),
    "five_modifiers": (_claim(modifiers=["26", "TC", "59", "XS", "LT"]), "lines.0.modifiers"),
    "impossible_date": (_claim(date_of_service="2025-02-30"), "lines.0.date_of_service"),
    "us_date_order": (_claim(date_of_service="03/03/2025"), "lines.0.date_of_service"),
    "timestamp_string": (_claim(date_of_service="2025-03-03T10:00:00"), "lines.0.date_of_service"),
    "timestamp_object": (_claim(date_of_service=dt.datetime(2025, 3, 3, 10, 0)),
                         "lines.0.date_of_service"),
    "timestamp_epoch_seconds": (_claim(date_of_service=1740960000), "lines.0.date_of_service"),
    "timestamp_epoch_seconds_as_text": (_claim(date_of_service="1740960000"),
                                        "lines.0.date_of_service"),
    "date_as_ccyymmdd_number": (_claim(date_of_service=20250303), "lines.0.date_of_service"),
    "missing_date": ({"claim_id": "C1", "payer": "medicare", "lines": [{"code": "77385"}]},
                     "lines.0.date_of_service"),
    "zero_units": (_claim(units=0), "lines.0.units"),
    "empty_lines": ({"claim_id": "C1", "payer": "commercial", "lines": []}, "lines"),
    "no_lines": ({"claim_id": "C1", "payer": "commercial"}, "lines"),
    "empty_claim_id": ({**_claim(), "claim_id": ""}, "claim_id"),
    "bad_state": ({**_claim(), "state": "Ohio"}, "state"),
    "unknown_line_field": (_claim(place_of_service="22"), "lines.0.place_of_service"),
    "unknown_claim_field": ({**_claim(), "member_id": "M1"}, "member_id"),
}


@pytest.mark.parametrize("claim,field", INVALID.values(), ids=list(INVALID))
def test_invalid_claim_raises_naming_the_field(
    engine: claimedit.Engine, claim: dict[str, Any], field: str
) -> None:
    """evaluate() raises InvalidClaimError; its ClaimError names the field by dotted path with a
    reason, so a submitter can fix the record without reading our code."""
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate(claim)
    error = caught.value.error
    assert isinstance(error, ClaimError)
    fields = [issue.field for issue in error.issues]
    assert field in fields, f"issues: {error.issues}"
    assert all(issue.reason for issue in error.issues)
    assert field in str(caught.value)


def test_unknown_field_says_so(engine: claimedit.Engine) -> None:
    """extra='forbid': a misspelt field is reported, never silently dropped."""
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate(_claim(modifier=["26"]))
    assert ("lines.0.modifier", "unknown field", "extra_forbidden") in caught.value.error.issues


@pytest.mark.parametrize("line,field", [
    ({"code": "7738"}, "lines.0.code"),
    ({"modifiers": ["26", "T"]}, "lines.0.modifiers.1"),
    ({"modifiers": ["26", "TC", "59", "XS", "LT"]}, "lines.0.modifiers"),
    ({"date_of_service": "2025-02-30"}, "lines.0.date_of_service"),
    ({"place_of_service": "22"}, "lines.0.place_of_service"),
], ids=["code", "modifier", "five_modifiers", "date", "unknown_field"])
def test_a_bad_line_is_not_also_reported_as_a_claim_without_lines(
    engine: claimedit.Engine, line: dict[str, Any], field: str
) -> None:
    """A claim with one faulty line has exactly one problem, at that line's field. An extra
    "lines: a claim needs at least one line" is false (the claim has a line) and sends the
    submitter looking for the wrong mistake."""
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate(_claim(**line))
    assert [issue.field for issue in caught.value.error.issues] == [field]


def test_every_problem_of_a_claim_is_reported(engine: claimedit.Engine) -> None:
    """All the faults of a record at once: payer, a code on line 0, a modifier on line 1."""
    claim = {"claim_id": "C1", "payer": "tricare", "lines": [
        {"code": "7738", "date_of_service": "2025-03-03"},
        {"code": "G6001", "modifiers": ["2"], "date_of_service": "2025-03-03"}]}
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate(claim)
    fields = {issue.field for issue in caught.value.error.issues}
    assert {"payer", "lines.0.code"} <= fields
    assert any(field.startswith("lines.1.modifiers") for field in fields)


def test_modifier_26_with_tc_is_a_decision_not_an_input_error(engine: claimedit.Engine) -> None:
    """26 and TC together is a coding error the policy answers (deny, CO-4 N519), not malformed
    input: the claim evaluates."""
    result = engine.evaluate(_claim(code="77014", modifiers=["26", "TC"]))
    assert result.lines[0].decision is Decision.DENY
    assert "IGRT-MODIFIER-26-WITH-TC" in result.lines[0].rule_ids


def test_codes_modifiers_payer_and_state_are_normalised(engine: claimedit.Engine) -> None:
    """What people send (lower case, stray spaces, a modifier string) evaluates exactly like the
    clean form: same codes, modifiers, payer, state, decisions and reasons."""
    messy = {"claim_id": " C7 ", "payer": "  Commercial ", "state": " oh ", "lines": [
        {"line_id": 1, "code": " 77385 ", "date_of_service": " 2025-03-03 "},
        {"line_id": 2, "code": "g6001", "modifiers": [" tc "], "date_of_service": "2025-03-03"},
        {"line_id": 3, "code": "g6001 ", "modifiers": ["26 ", " lt"],
         "date_of_service": "2025-03-03"}]}
    clean = {"claim_id": "C7", "payer": "commercial", "state": "OH", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-03-03"},
        {"line_id": "2", "code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-03"},
        {"line_id": "3", "code": "G6001", "modifiers": ["26", "LT"],
         "date_of_service": "2025-03-03"}]}
    got, want = engine.evaluate(messy), engine.evaluate(clean)
    assert got == want
    assert got.payer == "commercial" and got.state == "OH" and got.claim_id == "C7"
    assert [line.modifiers for line in got.lines] == [(), ("TC",), ("26", "LT")]
    assert got.lines[1].decision is Decision.BUNDLE


@pytest.mark.parametrize("text", ["medicare", "MEDICARE", " Medicare "])
def test_payer_is_case_insensitive(text: str) -> None:
    """The payer type parses whatever its case and padding."""
    assert Payer(text) is Payer.MEDICARE


def test_claims_and_lines_are_frozen() -> None:
    """Input models are immutable: a claim cannot change under an evaluation."""
    claim = claimedit.Claim.model_validate(_claim())
    with pytest.raises(ValueError):
        claim.payer = Payer.MEDICARE  # type: ignore[misc]
    with pytest.raises(ValueError):
        claim.lines[0].code = "77386"  # type: ignore[misc]


def test_missing_line_id_becomes_the_position(engine: claimedit.Engine) -> None:
    """Results name each line; without a submitter line number, its 1-based position."""
    result = engine.evaluate({"claim_id": "C1", "payer": "medicare", "lines": [
        {"code": "77385", "date_of_service": "2025-03-03"},
        {"code": "G6001", "modifiers": ["26"], "date_of_service": "2025-03-03"}]})
    assert [line.line_id for line in result.lines] == ["1", "2"]


def test_evaluate_many_collects_errors_in_place_and_goes_on(engine: claimedit.Engine) -> None:
    """errors='collect': every record in is a result or a ClaimError out, in input order, with
    the record number; the records after a bad one are still evaluated."""
    records = [
        _claim(),
        {**_claim(), "claim_id": "BAD1", "payer": "tricare"},
        {"claim_id": "C3", "payer": "medicaid", "lines": [
            {"code": "77385", "date_of_service": "2025-06-09"},
            {"code": "77387", "date_of_service": "2025-06-09"}]},
        {**_claim(code="7738"), "claim_id": "BAD2"},
        "not a claim at all",
        _claim(code="G6017", modifiers=["26"]),
    ]
    out = list(engine.evaluate_many(records, errors="collect"))
    assert [type(item) for item in out] == [ClaimResult, ClaimError, ClaimResult, ClaimError,
                                           ClaimError, ClaimResult]
    errors = [item for item in out if isinstance(item, ClaimError)]
    assert [(e.record, e.claim_id) for e in errors] == [(2, "BAD1"), (4, "BAD2"), (5, None)]
    assert errors[0].issues[0].field == "payer"
    assert "lines.0.code" in [issue.field for issue in errors[1].issues]
    assert out[2].lines[1].decision is Decision.BUNDLE
    assert out[5].lines[0].decision is Decision.DENY


def test_evaluate_many_raises_at_the_first_invalid_record(engine: claimedit.Engine) -> None:
    """errors='raise' (the default): results up to the bad record, then InvalidClaimError
    naming that record."""
    records = iter([_claim(), {**_claim(), "claim_id": "BAD", "payer": "tricare"}, _claim()])
    stream = engine.evaluate_many(records)
    assert isinstance(next(stream), ClaimResult)
    with pytest.raises(InvalidClaimError) as caught:
        next(stream)
    assert caught.value.error.record == 2 and caught.value.error.claim_id == "BAD"


def test_evaluate_many_is_lazy(engine: claimedit.Engine) -> None:
    """A stream is read one claim at a time: the first result comes before the input ends."""
    def claims() -> Any:
        yield _claim()
        raise AssertionError("read past the first claim before yielding its result")

    assert next(engine.evaluate_many(claims())).claim_id == "C1"


def test_evaluate_many_rejects_an_unknown_errors_mode(engine: claimedit.Engine) -> None:
    """A misspelt mode is misuse of the library, not a data problem."""
    with pytest.raises(ValueError):
        list(engine.evaluate_many([_claim()], errors="ignore"))  # type: ignore[call-overload]


def test_evaluate_line_rejects_a_bad_same_day_code(engine: claimedit.Engine) -> None:
    """The context codes are input too: a malformed one is an InvalidClaimError naming it."""
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate_line({"code": "G6001", "modifiers": ["TC"],
                              "date_of_service": "2025-03-03"},
                             payer="commercial", same_day_codes=["7738"])
    assert caught.value.error.issues[0].field == "same_day_codes"


def test_evaluate_line_reads_same_day_codes_as_claim_lines_read_codes(
    engine: claimedit.Engine,
) -> None:
    """A same-day code sent as a number counts, as it does on a claim line (it was silently
    ignored, so G6001-TC beside IMRT was allowed instead of bundled); a lone string is not
    read letter by letter; every bad item is named with its position."""
    line = {"code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-03"}
    claim = {"claim_id": "N", "payer": "commercial", "lines": [
        {"code": 77385, "date_of_service": "2025-03-03"}, line]}
    assert engine.evaluate(claim).lines[1].decision is Decision.BUNDLE
    alone = engine.evaluate_line(line, payer="commercial", same_day_codes=[77385])
    assert alone.decision is Decision.BUNDLE
    assert alone == engine.evaluate_line(line, payer="commercial", same_day_codes=[" 77385 "])
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate_line(line, payer="commercial", same_day_codes="77385")
    assert "pass a list of codes" in str(caught.value)
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate_line(line, payer="commercial", same_day_codes=["77385", None, "ZZ"])
    assert [issue.reason.split(":")[0] for issue in caught.value.error.issues] == [
        "item 1", "item 2"]


def test_evaluate_line_rejects_an_unknown_payer(engine: claimedit.Engine) -> None:
    """evaluate_line validates its payer like a claim's."""
    with pytest.raises(InvalidClaimError) as caught:
        engine.evaluate_line({"code": "G6001", "date_of_service": "2025-03-03"}, payer="tricare")
    assert "payer" in [issue.field for issue in caught.value.error.issues]


@pytest.mark.parametrize("value", ["1740960000", 1740960000, "2025-02-30", "03/03/2025"])
def test_json_text_refuses_what_a_dict_refuses_as_a_date_of_service(value: object) -> None:
    """JSON Lines records are validated from their text (the fast path): a date of service that
    is refused in a dict is refused there too, with the same message."""
    claim = _claim(date_of_service=value)
    from_dict = parse_claim(claim)
    from_text = parse_claim(json.dumps(claim))
    assert isinstance(from_dict, ClaimError) and isinstance(from_text, ClaimError)
    assert from_text.issues == from_dict.issues
    assert [issue.field for issue in from_text.issues] == ["lines.0.date_of_service"]
