"""X12 837P/837I in (synthetic transactions written for these tests: invented people, ids and
NPIs), 835-style CAS/LQ data out."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import claimedit
from claimedit import ClaimError, Decision, LineResult, Payer, Reason
from claimedit.adapters import x12
from claimedit.inputs import Record, read_records

DATA = Path(__file__).resolve().parents[1] / "data"
P837 = DATA / "igrt_837p.x12"
I837 = DATA / "igrt_837i.x12"
MALFORMED = DATA / "igrt_837p_malformed.x12"


def read(text: str, **options: Any) -> list[Record]:
    return list(x12.read_x12(text.splitlines(keepends=True), "claims.x12", **options))


def claims(records: list[Record]) -> dict[str, dict[str, Any]]:
    return {r.data["claim_id"]: r.data for r in records if not isinstance(r.data, ClaimError)}


def errors(records: list[Record]) -> list[ClaimError]:
    return [r.data for r in records if isinstance(r.data, ClaimError)]


def edit(text: str, old: str, new: str, *, segments: int = 0) -> str:
    """``text`` with ``old`` replaced once, and SE01 corrected by ``segments`` added/removed."""
    assert text.count(old) >= 1
    text = text.replace(old, new, 1)
    if segments:
        count = int(re.search(r"SE\*(\d+)\*0001", text).group(1))  # type: ignore[union-attr]
        text = text.replace(f"SE*{count}*0001", f"SE*{count + segments}*0001")
    return text


def test_837p_claims_lines_payers_and_states() -> None:
    records = read(P837.read_text())
    assert [r.number for r in records] == [1, 2, 3, 4, 5, 6, 7]
    found = claims(records)
    assert {claim_id: (c["payer"], c["state"]) for claim_id, c in found.items()} == {
        "P-1001": ("medicare", "OH"),   # SBR09 MB
        "P-1002": ("medicare", "OH"),
        "P-1003": ("medicare", "OH"),   # SBR09 16, Medicare Advantage HMO
        "P-1004": ("commercial", "OH"),  # SBR09 CI, the claim under a patient loop (2000C)
        "P-2001": ("medicaid", "TX"),   # a second billing provider; SBR09 MC
        "P-2002": ("commercial", "TX"),  # SBR09 BL
        "P-2003": ("commercial", "TX"),
    }
    assert found["P-1004"]["lines"] == [
        {"line_id": "1", "code": "77385", "units": 1, "date_of_service": "2025-03-04"},
        {"line_id": "2", "code": "G6001", "modifiers": ["TC"], "units": 1,
         "date_of_service": "2025-03-04"},
        {"line_id": "3", "code": "G6001", "modifiers": ["26"], "units": 1,
         "date_of_service": "2025-03-04"},
    ]
    assert found["P-2002"]["lines"][2]["units"] == 2
    assert [line["date_of_service"] for line in found["P-2003"]["lines"]] == [
        "2026-02-02", "2026-02-02", "2026-01-05"]


def test_837i_service_lines_and_the_statement_date_fallback() -> None:
    found = claims(read(I837.read_text()))
    assert {claim_id: c["payer"] for claim_id, c in found.items()} == {
        "I-3001": "medicaid", "I-3002": "medicare", "I-3003": "commercial"}  # MC, MA, HM
    assert {c["state"] for c in found.values()} == {"MI"}
    # I-3002: no DTP*472 on its lines, so the statement period (DTP*434 RD8) start; its
    # revenue-code-only line (0250, no HCPCS) is not evaluated.
    assert found["I-3002"]["lines"] == [
        {"line_id": "1", "code": "77412", "units": 1, "date_of_service": "2025-06-02"},
        {"line_id": "2", "code": "77387", "units": 1, "date_of_service": "2025-06-02"},
    ]
    assert found["I-3003"]["lines"][3] == {"line_id": "4", "code": "G6002", "units": 2,
                                           "date_of_service": "2025-09-16"}


def test_837_claims_evaluate_as_the_same_claims_in_json(engine: claimedit.Engine) -> None:
    records = read(P837.read_text()) + read(I837.read_text())
    decisions = {
        (r.data["claim_id"], line.line_id): (line.decision.value, line.rule_ids)
        for r in records for line in engine.evaluate(r.data).lines
    }
    acted = {key: value for key, value in decisions.items() if value[0] != "allow"}
    assert acted == {
        ("P-1002", "2"): ("deny", ("IGRT-MEDICARE-77387", "IGRT-PC-CODED-WITH-GCODES")),
        ("P-1003", "2"): ("deny", ("IGRT-MEDICARE-77387",)),  # Medicare Advantage as Medicare
        ("P-1004", "2"): ("bundle", ("IGRT-TC-BUNDLED-INTO-IMRT",)),
        ("P-2001", "2"): ("bundle", ("IGRT-MEDICAID-NCCI-77387-INTO-IMRT",
                                     "IGRT-TC-BUNDLED-INTO-IMRT")),
        ("P-2002", "3"): ("deny", ("IGRT-COMPONENT-MODIFIER",)),
        ("P-2003", "3"): ("deny", ("IGRT-CODE-NOT-EFFECTIVE",)),
        ("I-3001", "2"): ("bundle", ("IGRT-MEDICAID-NCCI-77387-INTO-IMRT",
                                     "IGRT-TC-BUNDLED-INTO-IMRT")),
        ("I-3002", "2"): ("deny", ("IGRT-MEDICARE-77387",)),
        ("I-3003", "2"): ("bundle", ("IGRT-TC-BUNDLED-INTO-IMRT",)),
        ("I-3003", "4"): ("bundle", ("IGRT-TC-BUNDLED-INTO-IMRT",)),
    }


def test_malformed_837_names_record_and_segment_and_reads_the_other_claims() -> None:
    records = read(MALFORMED.read_text())
    assert sorted(claims(records)) == ["P-1001", "P-1003", "P-1004", "P-2001", "P-2003"]
    broken, fractional = errors(records)
    assert (broken.record, broken.claim_id) == (2, "P-1002")
    fields = [issue.field for issue in broken.issues]
    assert "2400 SV1 (segment 35)" in fields  # pyx12: the SV1 segment fits nowhere
    assert any(f.startswith("2400[3] SV101-1 (segment 35)") for f in fields)
    assert (fractional.record, fractional.claim_id) == (6, "P-2002")
    assert fractional.issues == (claimedit.FieldIssue(
        "2400[3] SV104 (segment 118)",
        "Input should be a valid integer, got a number with a fractional part"),)


def test_an_unknown_segment_inside_a_claim_rejects_that_claim_only() -> None:
    text = edit(P837.read_text(), "DTP*472*D8*20250303~\n", "DTP*472*D8*20250303~\nZZZ*BROKEN~\n",
                segments=1)
    records = read(text)
    [error] = errors(records)
    assert error.claim_id == "P-1001"
    assert error.issues[0].field == "2400 ZZZ (segment 26)"
    assert "ZZZ*BROKEN not found" in error.issues[0].reason
    assert len(claims(records)) == 6


def test_a_missing_837p_service_date_is_an_error_on_the_line() -> None:
    text = edit(P837.read_text(), "DTP*472*D8*20250303~\n", "", segments=-1)
    [error] = errors(read(text))
    assert error.claim_id == "P-1001"
    assert [issue.field for issue in error.issues] == [
        "2400 DTP (segment 25)",  # pyx12: mandatory in the 837P guide
        "2400[1] DTP*472 (segment 24)",
    ]


@pytest.mark.parametrize("units", ["Infinity", "NaN"])
def test_a_non_finite_unit_count_is_an_error_on_the_line_not_a_crash(units: str) -> None:
    """Decimal reads "Infinity" and "NaN"; int(Infinity) used to stop the whole file with an
    OverflowError. The claim is one error record and the others are read."""
    text = edit(P837.read_text(), "SV1*HC:77385*850*UN*1***1~", f"SV1*HC:77385*850*UN*{units}***1~")
    records = read(text)
    [bad] = [error for error in errors(records) if error.claim_id == "P-1001"]
    assert any("SV104" in issue.field for issue in bad.issues), bad
    assert "P-1002" in claims(records)


def test_filing_indicator_mapping_is_overridable_and_unmapped_codes_are_errors() -> None:
    text = P837.read_text()
    custom = {**x12.CLAIM_FILING_INDICATORS, "16": Payer.COMMERCIAL}
    assert claims(read(text, filing_indicators=custom))["P-1003"]["payer"] == "commercial"
    without_ci = {k: v for k, v in x12.CLAIM_FILING_INDICATORS.items() if k != "CI"}
    [error] = errors(read(text, filing_indicators=without_ci))
    assert error.claim_id == "P-1004"
    assert error.issues == (claimedit.FieldIssue(
        "2000B SBR09 (segment 56)", "claim filing indicator 'CI' is not mapped to a payer type"),)


def test_envelope_faults_are_file_records_and_the_claims_are_still_read() -> None:
    text = edit(P837.read_text(), "SE*", "SE*9")  # SE01 now counts wrong
    records = read(text)
    assert len(claims(records)) == 7
    [error] = errors(records)
    assert (error.record, error.claim_id) == (0, None)
    assert error.issues[0].field.startswith("ST (segment")
    assert "SE count" in error.issues[0].reason


def test_a_file_pyx12_cannot_read_is_one_clear_error() -> None:
    [record] = read("ISA*00*broken~")
    assert record.number == 0 and record.data.issues[0].field == "ISA"
    text = P837.read_text().replace("005010X222A1", "005010X999A1")
    [record] = read(text)
    assert record.data.issues[0].field == "segment 2"
    assert "Map not found" in record.data.issues[0].reason


def test_the_file_streams_from_any_chunking_of_its_text() -> None:
    text = P837.read_text()
    whole = [r.data for r in x12.read_x12([text], "a.x12")]
    chunks = [text[i:i + 7] for i in range(0, len(text), 7)]
    assert [r.data for r in x12.read_x12(iter(chunks), "a.x12")] == whole


def test_read_records_detects_x12_by_content() -> None:
    with P837.open(encoding="ascii") as handle:
        records = list(read_records(handle, "batch.json"))  # the name would say JSON
    assert len(records) == 7


# --- remittance -----------------------------------------------------------------------------------


def reason(rule: str, carc: str, rarcs: tuple[str, ...], group: str = "CO",
           decision: Decision = Decision.DENY) -> Reason:
    return Reason(rule, decision, "message", group, carc, rarcs, "citation", "source")


def line(*reasons: Reason) -> LineResult:
    decision = max((r.decision for r in reasons), key=lambda d: d.severity, default=Decision.ALLOW)
    return LineResult("1", "77387", (), dt.date(2025, 6, 2), decision, reasons)


def test_remittance_of_a_bundled_line_with_two_reasons(engine: claimedit.Engine) -> None:
    result = engine.evaluate({"claim_id": "C", "payer": "medicaid", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-06-09"},
        {"line_id": "2", "code": "77387", "date_of_service": "2025-06-09"}]})
    allowed, bundled = x12.remittances(result)
    assert allowed.adjustments == () and allowed.segments() == []
    assert bundled.segments() == ["CAS*CO*236*0**97*0~", "LQ*HE*N20~", "LQ*HE*M15~"]
    priced = x12.remittance(result.lines[1], charge=Decimal("200.00"))
    assert [a.amount for a in priced.adjustments] == [Decimal("200.00"), Decimal(0)]
    assert priced.segments()[0] == "CAS*CO*236*200**97*0~"
    assert priced.to_dict() == {
        "line_id": "2", "code": "77387", "decision": "bundle",
        "adjustments": [{"group_code": "CO", "carc": "236", "amount": "200.00"},
                        {"group_code": "CO", "carc": "97", "amount": "0"}],
        "rarcs": ["N20", "M15"],
        "rule_ids": ["IGRT-MEDICAID-NCCI-77387-INTO-IMRT", "IGRT-TC-BUNDLED-INTO-IMRT"],
    }


def test_the_charge_is_adjusted_under_the_reason_that_decided_the_line(
    engine: claimedit.Engine,
) -> None:
    """77387-26 beside IMRT for Medicaid is bundled by the NCCI edit (first by rule id) and
    denied by the coding edit: the line is denied, so CO-4 carries the charge, as the frame
    adapter's carc names CO-4, not CO-236."""
    result = engine.evaluate({"claim_id": "C", "payer": "medicaid", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-06-09"},
        {"line_id": "2", "code": "77387", "modifiers": ["26"], "date_of_service": "2025-06-09"}]})
    denied = result.lines[1]
    assert denied.decision is Decision.DENY
    assert [r.decision for r in denied.reasons] == [Decision.BUNDLE, Decision.DENY]
    priced = x12.remittance(denied, charge=Decimal("75"))
    assert [(a.carc, a.amount) for a in priced.adjustments] == [
        ("236", Decimal(0)), ("4", Decimal("75"))]
    assert priced.segments()[0] == "CAS*CO*236*0**4*75~"


def test_remittance_groups_by_group_code_six_reasons_a_cas_and_dedupes_remarks() -> None:
    reasons = [reason(f"R{n}", str(n), ("N56",)) for n in range(1, 8)]
    reasons.append(reason("P", "1", ("N56", "M15"), group="PR"))
    remit = x12.remittance(line(*reasons), charge=Decimal("12.50"))
    assert remit.segments(element="|", terminator="") == [
        "CAS|CO|1|12.5||2|0||3|0||4|0||5|0||6|0",
        "CAS|CO|7|0",
        "CAS|PR|1|0",
        "LQ|HE|N56",
        "LQ|HE|M15",
    ]


@pytest.mark.parametrize("path", [P837, I837], ids=["837P", "837I"])
def test_every_line_of_the_fixtures_has_remittance_data(path: Path,
                                                        engine: claimedit.Engine) -> None:
    for record in read(path.read_text()):
        result = engine.evaluate(record.data)
        for remit, result_line in zip(x12.remittances(result), result.lines, strict=True):
            assert remit.decision is result_line.decision
            assert [(a.group_code, a.carc) for a in remit.adjustments] == [
                (r.group_code, r.carc) for r in result_line.reasons]
            assert bool(remit.adjustments) == (result_line.decision is not Decision.ALLOW)
