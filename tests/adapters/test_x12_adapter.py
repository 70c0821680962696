"""X12 837P/837I in (synthetic transactions written for these tests: invented people, ids and
NPIs; and sample files of other projects, see tests/data/README.md), 835-style CAS/LQ data out."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit
from claimedit import Claim, ClaimError, Decision, LineResult, Payer, Reason
from claimedit.adapters import x12
from claimedit.inputs import Record, read_records

DATA = Path(__file__).resolve().parents[1] / "data"
P837 = DATA / "igrt_837p.x12"
I837 = DATA / "igrt_837i.x12"
MALFORMED = DATA / "igrt_837p_malformed.x12"
OTHERS = sorted([*DATA.glob("lfh_*"), *DATA.glob("oopfactory_*")])


def read(text: str, **options: Any) -> list[Record]:
    return list(x12.read_x12(text.splitlines(keepends=True), "claims.x12", **options))


def as_dict(claim: Claim) -> dict[str, Any]:
    return claim.model_dump(mode="json", exclude_defaults=True)


def claims(records: list[Record]) -> dict[str, dict[str, Any]]:
    return {r.data.claim_id: as_dict(r.data) for r in records
            if not isinstance(r.data, ClaimError)}


def errors(records: list[Record]) -> list[ClaimError]:
    return [r.data for r in records if isinstance(r.data, ClaimError)]


def messages(records: list[Record]) -> list[str]:
    return [f"{issue.field}: {issue.reason}" for error in errors(records)
            for issue in error.issues] + [f"{n.field}: {n.reason}" for r in records
                                          for n in r.notes]


def edit(text: str, old: str, new: str, *, segments: int = 0) -> str:
    """``text`` with ``old`` replaced once, and SE01 corrected by ``segments`` added/removed."""
    assert text.count(old) >= 1
    text = text.replace(old, new, 1)
    if segments:
        count = int(re.search(r"SE\*(\d+)\*0001", text).group(1))  # type: ignore[union-attr]
        text = text.replace(f"SE*{count}*0001", f"SE*{count + segments}*0001")
    return text


def clm01s(text: str) -> list[str]:
    """The CLM01 of every CLM segment of an 837, by the delimiters of its first ISA."""
    text = text.lstrip("\ufeff \t\r\n")
    element = text[3]
    terminator = text[_isa_end(text) - 1]
    found = []
    for segment in text.split(terminator):
        parts = segment.strip().split(element)
        if parts[0] == "CLM":
            found.append(parts[1] if len(parts) > 1 else "")
    return found


def _isa_end(text: str) -> int:
    element, at = text[3], 3
    for _ in range(15):
        at = text.find(element, at + 1)
    return at + 3


# --- reading ----------------------------------------------------------------------------------


def test_837p_claims_lines_payers_states_and_the_claim_fields() -> None:
    records = read(P837.read_text())
    assert [r.number for r in records] == [1, 2, 3, 4, 5, 6, 7]
    found = claims(records)
    assert {claim_id: (c["payer"], c.get("state")) for claim_id, c in found.items()} == {
        "P-1001": ("medicare", "OH"),   # SBR09 MB
        "P-1002": ("medicare", "OH"),
        "P-1003": ("medicare", "OH"),   # SBR09 16, Medicare Advantage HMO
        "P-1004": ("commercial", "OH"),  # SBR09 CI, the claim under a patient loop (2000C)
        "P-2001": ("medicaid", "TX"),   # a second billing provider; SBR09 MC
        "P-2002": ("commercial", "TX"),  # SBR09 BL
        "P-2003": ("commercial", "TX"),
    }
    assert found["P-1004"]["lines"] == [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-03-04", "charge": "850"},
        {"line_id": "2", "code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-04",
         "charge": "95"},
        {"line_id": "3", "code": "G6001", "modifiers": ["26"], "date_of_service": "2025-03-04",
         "charge": "60"},
    ]
    assert found["P-2002"]["lines"][2]["units"] == 2
    assert [line["date_of_service"] for line in found["P-2003"]["lines"]] == [
        "2026-02-02", "2026-02-02", "2026-01-05"]
    # The claim fields: the subscriber's member id (2010BA NM109) is the patient's when the
    # patient is the subscriber; P-1004's patient is a dependent (2000C) with no id of their own.
    assert {claim_id: c.get("patient_id") for claim_id, c in found.items()} == {
        "P-1001": "0TE0ST0AA00", "P-1002": "0TE0ST0AA00", "P-1003": "0TE0ST0BB00",
        "P-1004": None, "P-2001": "SYNMCD000007", "P-2002": "SYNBCB000008",
        "P-2003": "SYNBCB000008"}
    assert {c["provider_id"] for c in found.values()} == {"1234567893"}  # 2010AA NM109 (XX)
    assert {c.get("claim_type", "professional") for c in found.values()} == {"professional"}
    assert all(r.data.frequency_code == "1" for r in records)  # CLM05-3


def test_837i_service_lines_the_statement_date_fallback_and_revenue_only_lines() -> None:
    records = read(I837.read_text())
    found = claims(records)
    assert {claim_id: c["payer"] for claim_id, c in found.items()} == {
        "I-3001": "medicaid", "I-3002": "medicare", "I-3003": "commercial"}  # MC, MA, HM
    assert {c["state"] for c in found.values()} == {"MI"}
    assert {c["claim_type"] for c in found.values()} == {"institutional"}
    # I-3002: no DTP*472 on its lines, so the statement period (DTP*434 RD8) start; its
    # revenue-code-only line (0250, no HCPCS) is not evaluated, and the record says so.
    assert found["I-3002"]["lines"] == [
        {"line_id": "1", "code": "77412", "date_of_service": "2025-06-02", "charge": "600"},
        {"line_id": "2", "code": "77387", "date_of_service": "2025-06-02", "charge": "200"},
    ]
    [note] = records[1].notes
    assert note.field == "2400[3] SV202 (segment 54)"
    assert note.reason == "revenue code '0250' without a HCPCS code: the line is not evaluated"
    assert note.type == x12.NOT_EVALUATED
    assert found["I-3003"]["lines"][3] == {"line_id": "4", "code": "G6002", "units": 2,
                                           "date_of_service": "2025-09-16", "charge": "120"}


def test_837_claims_evaluate_as_the_same_claims_in_json(engine: claimedit.Engine) -> None:
    records = read(P837.read_text()) + read(I837.read_text())
    decisions = {
        (r.data.claim_id, line.line_id): (line.decision.value, line.rule_ids)
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
    assert broken.issues == (claimedit.FieldIssue(
        "2400[2] SV101-1 (segment 35)",
        "'HC77387' is not a product/service id qualifier: a component separator (':') is "
        "missing after it", x12.SEPARATOR),)
    assert (fractional.record, fractional.claim_id) == (6, "P-2002")
    assert fractional.issues == (claimedit.FieldIssue(
        "2400[3] SV104 (segment 118)",
        "Input should be a valid integer, got a number with a fractional part",
        "int_from_float"),)  # pydantic's slug, kept when the field is renamed to its X12 place


def test_an_unknown_segment_inside_a_claim_rejects_that_claim_only() -> None:
    text = edit(P837.read_text(), "DTP*472*D8*20250303~\n", "DTP*472*D8*20250303~\nZZZ*BROKEN~\n",
                segments=1)
    records = read(text)
    [error] = errors(records)
    assert error.claim_id == "P-1001"
    assert error.issues == (claimedit.FieldIssue(
        "2400 segment 26", "'ZZZ' is not a segment id of the 837", x12.SEGMENT),)
    assert len(claims(records)) == 6


def test_a_missing_837p_service_date_is_an_error_on_the_line() -> None:
    text = edit(P837.read_text(), "DTP*472*D8*20250303~\n", "", segments=-1)
    [error] = errors(read(text))
    assert error.claim_id == "P-1001"
    assert error.issues == (claimedit.FieldIssue(
        "2400[1] DTP*472 (segment 24)",
        "no service date (DTP*472) and no statement period (2300 DTP*434) to fall back on",
        "missing"),)


def test_an_837i_line_without_its_date_in_a_statement_period_of_several_days_is_an_error(
) -> None:
    """I-3001 covers 2025-06-09..10 and dates each line. Without the lines' DTP*472 the first
    day stood for all four: 77387 of the 10th was bundled into the IMRT of the 9th (a wrong
    decision). The statement period stands for a line's date only when it is one day."""
    text = I837.read_text()
    claim = text[text.index("CLM*I-3001"):text.index("HL*3*1*22*0")]
    assert claim.count("DTP*472") == 4
    undated = re.sub(r"DTP\*472\*D8\*\d{8}~\n", "", claim)
    records = read(edit(text, claim, undated, segments=-4))
    [error] = errors(records)
    assert error.claim_id == "I-3001"
    assert [issue.field for issue in error.issues] == [
        f"2400[{k}] DTP*472 (segment {n})" for k, n in ((1, 26), (2, 28), (3, 30), (4, 32))]
    assert {issue.reason for issue in error.issues} == {
        "no service date (DTP*472) and the statement period (2300 DTP*434) covers several "
        "days: which is the line's?"}
    # A one-day period still stands for its lines (I-3002, RD8 with one day, decided as before).
    one_day = undated.replace("DTP*434*RD8*20250609-20250610", "DTP*434*RD8*20250609-20250609")
    [claim_record] = [r for r in read(edit(text, claim, one_day, segments=-4))
                      if r.data.claim_id == "I-3001"]
    assert isinstance(claim_record.data, Claim)
    assert {line.date_of_service for line in claim_record.data.lines} == {dt.date(2025, 6, 9)}


@pytest.mark.parametrize("units", ["Infinity", "NaN", "1E1000000", "1e9", "0x10", "1" * 19])
def test_a_unit_count_that_is_not_an_x12_number_is_an_error_on_the_line(units: str) -> None:
    """Numbers are bounded: ``1E1000000`` once became a million-digit integer (a hang), and
    int(Infinity) stopped the whole file. The claim is one error record, the others are read."""
    text = edit(P837.read_text(), "SV1*HC:77385*850*UN*1***1~", f"SV1*HC:77385*850*UN*{units}***1~")
    records = read(text)
    [bad] = errors(records)
    assert bad.claim_id == "P-1001"
    assert bad.issues[0].field == "2400[1] SV104 (segment 24)"
    assert bad.issues[0].reason.endswith("is not a number")
    assert len(bad.issues[0].reason) < 60  # the value is quoted cut short
    assert len(claims(records)) == 6


def test_a_charge_that_is_not_an_amount_is_an_error_on_the_line() -> None:
    text = edit(P837.read_text(), "SV1*HC:77385*850*", "SV1*HC:77385*1E1000000*")
    [bad] = errors(read(text))
    assert bad.issues == (claimedit.FieldIssue("2400[1] SV102 (segment 24)",
                                               "'1E1000000' is not an amount", x12.NUMBER),)
    text = edit(P837.read_text(), "SV1*HC:77385*850*", "SV1*HC:77385*850.123*")
    [bad] = errors(read(text))
    assert bad.issues[0].field == "2400[1] SV102 (segment 24)"


def test_filing_indicator_mapping_is_overridable_and_unmapped_codes_are_errors() -> None:
    text = P837.read_text()
    custom = {**x12.CLAIM_FILING_INDICATORS, "16": Payer.COMMERCIAL}
    assert claims(read(text, filing_indicators=custom))["P-1003"]["payer"] == "commercial"
    without_ci = {k: v for k, v in x12.CLAIM_FILING_INDICATORS.items() if k != "CI"}
    [error] = errors(read(text, filing_indicators=without_ci))
    assert error.claim_id == "P-1004"
    assert error.issues == (claimedit.FieldIssue(
        "2000B SBR09 (segment 56)", "claim filing indicator 'CI' is not mapped to a payer type",
        "payer_not_mapped"),)


def test_frequency_code_and_a_bad_one_named_by_its_element() -> None:
    text = edit(P837.read_text(), "CLM*P-1001*910***11:B:1*", "CLM*P-1001*910***11:B:7*")
    assert claims(read(text))["P-1001"]["frequency_code"] == "7"
    text = edit(P837.read_text(), "CLM*P-1001*910***11:B:1*", "CLM*P-1001*910***11:B:X*")
    [error] = errors(read(text))
    assert error.issues[0].field == "2300 CLM05-3 (segment 21)"


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    ("SE*129*0001", "SE*9129*0001", "SE01 (segment 131)", "SE count '9129'"),
    ("SE*129*0001", "SE*129*0002", "SE02 (segment 131)", "SE control number '0002'"),
    ("GE*1*101", "GE*2*101", "GE01 (segment 132)", "GE count '2'"),
    ("GE*1*101", "GE*1*102", "GE02 (segment 132)", "GE control number '102'"),
    ("IEA*1*000000101", "IEA*3*000000101", "IEA01 (segment 133)", "IEA count '3'"),
    ("IEA*1*000000101", "IEA*1*000000999", "IEA02 (segment 133)", "IEA control number"),
])
def test_envelope_faults_are_file_records_and_the_claims_are_still_read(
    old: str, new: str, field: str, words: str,
) -> None:
    records = read(edit(P837.read_text(), old, new))
    assert len(claims(records)) == 7
    [error] = errors(records)
    assert (error.record, error.claim_id) == (0, None)
    assert error.issues[0].field == field
    assert words in error.issues[0].reason


def test_a_file_cut_in_half_decides_the_claims_before_the_cut_and_reports_the_rest() -> None:
    text = P837.read_text()
    cut = text[:text.index("SV1*HC:G6016")]  # inside claim P-2002
    records = read(cut)
    assert sorted(claims(records)) == ["P-1001", "P-1002", "P-1003", "P-1004", "P-2001"]
    cut_claim, *trailers = errors(records)
    assert (cut_claim.record, cut_claim.claim_id) == (6, "P-2002")
    assert any("the claim may be cut off" in issue.reason for issue in cut_claim.issues)
    assert [(e.record, e.issues[0].field.split()[0]) for e in trailers] == [
        (0, "SE"), (0, "GE"), (0, "IEA")]


def test_every_claim_of_the_other_projects_samples_is_a_result_or_an_error_naming_it() -> None:
    """LinuxForHealth x12 (A2 and A3) and OopFactory X12Parser (no errata suffix, byte-order
    mark, CRLF and indentation) files: every CLM01 is named by a record."""
    for path in OTHERS:
        text = path.read_text(encoding="utf-8-sig")
        with path.open("rb") as handle:
            records = list(x12.read_x12(handle, path.name))
        named = [r.data.claim_id for r in records if r.number > 0]
        assert named == clm01s(text), path.name
        assert named, path.name


def test_the_samples_read_as_their_authors_meant_them() -> None:
    def only(name: str) -> Record:
        with (DATA / name).open("rb") as handle:
            [record] = [r for r in x12.read_x12(handle, name) if r.number]
        return record

    example1 = only("lfh_837p_a2_example1.837").data  # 005010X222A2
    assert (example1.claim_id, example1.payer, example1.state, example1.provider_id) == (
        "26463774", Payer.COMMERCIAL, "FL", "1912301953")
    assert example1.patient_id is None  # the patient is a dependent (2000C) without an id
    assert [(line.code, str(line.charge)) for line in example1.lines] == [
        ("99213", "40.00"), ("87070", "15.00"), ("99214", "35.00"), ("86663", "10.00")]
    # 005010X223A3, institutional
    institutional = only("lfh_837i_a3_institutional.837i").data
    assert institutional.claim_type is claimedit.ClaimType.INSTITUTIONAL
    assert institutional.payer is Payer.MEDICARE
    # A byte-order mark, CRLF, indentation, and GS08 005010X222 without an errata suffix.
    oop = only("oopfactory_837p_5010_example1.txt").data
    assert oop.claim_id == "26463774" and len(oop.lines) == 4
    # This sample writes SV101 as HC>E0570>RR while ISA16 declares ':': named, not guessed.
    example11 = only("lfh_837p_a2_example11.837").data
    assert isinstance(example11, ClaimError)
    assert example11.claim_id == "ABC123-RI"
    assert ("2400[1] SV101 (segment 32)", "'HC>E0570>RR': components separated by '>' where "
            "ISA16 declares ':'") in [(issue.field, issue.reason) for issue in example11.issues]


def _envelope(text: str, *, element: str = "*", component: str = ":", terminator: str = "~",
              control: str = "000000101") -> str:
    """igrt_837p.x12 with other delimiters and interchange control number."""
    out = text.replace("*000000101*", f"*{control}*").replace("IEA*1*000000101",
                                                             f"IEA*1*{control}")
    out = out.replace("~", "\x00").replace(":", "\x01").replace("*", "\x02")
    return out.replace("\x00", terminator).replace("\x01", component).replace("\x02", element)


@pytest.mark.parametrize("layout", ["lf", "crlf", "none", "indented", "bom", "leading-space"])
def test_line_breaks_indentation_and_byte_order_marks_do_not_matter(layout: str) -> None:
    text = P837.read_text()
    flat = text.replace("~\n", "~")
    laid_out = {
        "lf": text, "crlf": text.replace("\n", "\r\n"), "none": flat,
        "indented": text.replace("\n", "\n    "), "bom": "\ufeff" + text,
        "leading-space": "\n\n   " + text,
    }[layout]
    expected = [r.data for r in read(text)]
    assert [r.data for r in x12.read_x12([laid_out], "f.x12")] == expected
    assert [r.data for r in x12.read_x12(io.BytesIO(laid_out.encode()), "f.x12")] == expected


def test_several_interchanges_each_with_its_own_delimiters() -> None:
    text = P837.read_text()
    second = _envelope(text, element="|", component="^", terminator="\n",
                       control="000000102").replace("\n\n", "\n")
    second = second.replace("*^*00501", "|^|00501")  # ISA11 was the repetition separator
    records = list(x12.read_x12([text + second], "two.x12"))
    assert [r.number for r in records] == list(range(1, 15))
    assert not errors(records), errors(records)
    assert [r.data for r in records[7:]] == [r.data for r in records[:7]]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_utf8_files_are_read_as_they_declare(encoding: str) -> None:
    text = P837.read_text()
    data = text.encode(encoding)
    expected = [r.data for r in read(text)]
    assert [r.data for r in x12.read_x12(io.BytesIO(data), "f.x12")] == expected


def test_bytes_that_are_not_utf8_are_one_clear_error() -> None:
    text = P837.read_text()
    at = text.index("HI*ABK:C61", text.index("CLM*P-1002"))
    text = text[:at] + "HI*ABK:C6\u00c9" + text[at + len("HI*ABK:C61"):]  # in claim P-1002
    data = text.encode("latin-1")
    assert x12.check_encoding(io.BytesIO(data)) is not None
    records = list(x12.read_x12(io.BytesIO(data), "latin.x12"))
    # The claim the byte falls in is an error naming the segment; every other claim is read.
    # (The reader once stopped at the byte: the claims after it were neither decided nor named.)
    assert list(claims(records)) == ["P-1001", "P-1003", "P-1004", "P-2001", "P-2002", "P-2003"]
    [error] = errors(records)
    assert (error.record, error.claim_id) == (2, "P-1002")
    [issue] = error.issues
    assert (issue.field, issue.type) == ("2300 (segment 30)", x12.ENCODING)
    assert "iconv" in issue.reason
    assert x12.check_encoding(io.BytesIO(P837.read_bytes())) is None


def test_bytes_that_do_not_decode_in_a_subscriber_loop_make_its_claims_errors() -> None:
    """A header segment the claims below it depend on: they are named, not decided, and the
    next subscriber's claims are read. The name's value is never quoted."""
    text = P837.read_text().replace("NM1*IL*1*TESTPATIENT*BETA", "NM1*IL*1*M\u00dcLLER*BETA", 1)
    records = list(x12.read_x12(io.BytesIO(text.encode("latin-1")), "latin.x12"))
    file_level, p1003 = errors(records)
    assert (file_level.record, file_level.issues[0].field) == (0, "(segment 42)")
    assert p1003.claim_id == "P-1003"
    assert p1003.issues[0].reason == "not read: segment 42 holds bytes that do not decode"
    assert len(claims(records)) == 6
    assert not [m for m in messages(records) if "LLER" in m]


@settings(max_examples=25)
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=40))
def test_the_file_streams_from_any_chunking_of_its_text(sizes: list[int]) -> None:
    text = P837.read_text()
    whole = [r.data for r in x12.read_x12([text], "a.x12")]
    chunks, at, k = [], 0, 0
    while at < len(text):
        size = sizes[k % len(sizes)]
        chunks.append(text[at:at + size])
        at, k = at + size, k + 1
    assert [r.data for r in x12.read_x12(iter(chunks), "a.x12")] == whole
    encoded = [chunk.encode() for chunk in chunks]
    assert [r.data for r in x12.read_x12(iter(encoded), "a.x12")] == whole


def test_read_records_detects_x12_by_content() -> None:
    with P837.open(encoding="ascii") as handle:
        records = list(read_records(handle, "batch.json"))  # the name would say JSON
    assert len(records) == 7


def test_an_empty_segment_and_text_after_the_interchange_are_reported() -> None:
    text = edit(P837.read_text(), "HI*ABK:C61~\nLX*1~", "HI*ABK:C61~~\nLX*1~")
    records = read(text + "NOT X12 AT ALL")
    [claim_error, trailing] = errors(records)
    assert claim_error.claim_id == "P-1001"
    assert claim_error.issues[0].reason.startswith("an empty segment")
    assert trailing.record == 0 and "not an X12 interchange" in trailing.issues[0].reason
    assert len(claims(records)) == 6


def test_a_file_without_an_isa_names_its_claims_without_deciding_them() -> None:
    text = P837.read_text()
    headless = text[text.index("GS*"):]
    records = read(headless)
    assert [r.data.claim_id for r in records if r.number] == clm01s(text)
    assert not claims(records)


def test_other_transactions_and_versions_are_refused_claim_by_claim() -> None:
    text = P837.read_text().replace("005010X222A1", "004010X098A1")
    records = read(text)
    assert not claims(records)
    assert [r.data.claim_id for r in records if r.number] == clm01s(text)
    assert "is not a 5010 837P" in errors(records)[0].issues[0].reason


# --- what nothing in a file can do ------------------------------------------------------------

PRIVATE = "ZQXPRIVATEZQX"


def _mutations(text: str) -> list[tuple[str, str]]:
    """Every one-segment mutation of ``text``: each segment deleted, duplicated, its id
    corrupted, its elements shifted, its values replaced by a marker."""
    segments = text.split("~\n")
    out = []
    for k, segment in enumerate(segments):
        if not segment:
            continue
        variants = {
            "delete": [],
            "duplicate": [segment, segment],
            "corrupt-id": ["X" + segment[1:]],
            "shift": [segment.replace("*", "**", 1)],
            "cut": [segment[: len(segment) // 2]],
            "private": ["*".join([segment.split("*")[0]]
                                 + [PRIVATE] * (segment.count("*") or 1))],
        }
        for name, replacement in variants.items():
            out.append((f"{name} segment {k + 1}",
                        "~\n".join(segments[:k] + replacement + segments[k + 1:])))
    return out


def test_one_segment_mutation_probe_never_raises_and_accounts_for_every_claim() -> None:
    text = P837.read_text()
    for name, mutated in _mutations(text):
        records = read(mutated)  # never raises
        named = [r.data.claim_id or "" for r in records if r.number]
        if mutated.startswith(text[:text.index("~")]):  # the ISA is intact
            assert named == clm01s(mutated), name
        assert [r.number for r in records if r.number] == list(range(1, len(named) + 1)), name
        for error in errors(records):
            assert error.issues, name


def test_messages_never_quote_patient_identifying_elements() -> None:
    """NM1, N3, N4, DMG, REF of the subscriber and patient loops: the probe fills them with a
    marker, breaks them and the segments around them; no message carries the marker."""
    text = P837.read_text()
    segments = text.split("~\n")
    private, loop = set(), ""
    for k, segment in enumerate(segments):  # the segments of 2010BA and 2010CA
        if segment.startswith(("NM1*IL", "NM1*QC")):
            loop = "patient"
        elif segment.startswith(("NM1*PR", "HL", "CLM", "PAT")):
            loop = ""
        if loop:
            private.add(k)
    assert len(private) == 21  # NM1*IL, N3, N4, DMG of six subscribers, one patient loop
    for name, mutated in _mutations(text):
        if int(name.rsplit(" ", 1)[1]) - 1 not in private:
            continue
        for message in messages(read(mutated)):
            assert PRIVATE not in message, (name, message)
    # A member id too long for the model is named, not quoted.
    long_id = edit(text, "MI*0TE0ST0AA00~", f"MI*{PRIVATE * 8}~")
    [error] = errors(read(long_id))[:1]
    assert error.issues[0].field == "2010BA NM109 (segment 16)"
    assert PRIVATE not in str(error)


def test_the_x12_reader_needs_no_extra() -> None:
    # pyx12 is only for --validate: the reader module imports nothing of it.
    source = Path(x12.__file__).read_text(encoding="utf-8")
    assert "import pyx12" not in source
    assert codecs.lookup("utf-8")  # the decoders it uses are the standard library's


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


def _synthetic_837(claims: int) -> Iterator[str]:
    """An 837P of ``claims`` claims as chunks made on the fly (never the whole text at once)."""
    template = P837.read_text(encoding="ascii")
    head = template[:template.index("HL*2*1*22*0")]
    body = template[template.index("HL*2*1*22*0"):template.index("HL*3*1*22*0")]
    yield head
    segments = head.count("~") - 2  # from ST on
    for k in range(claims):
        # Claim ids repeat: pydantic-core keeps a bounded cache of the strings it has seen, and
        # this test is about the reader's memory.
        yield body.replace("HL*2*1*22*0", f"HL*{k + 2}*1*22*0").replace("P-1001", f"M-{k % 50}")
        segments += body.count("~")
    yield f"SE*{segments + 1}*0001~\nGE*1*101~\nIEA*1*000000101~\n"


def test_memory_stays_flat_whatever_the_number_of_claims() -> None:
    """One claim is held at a time: ten times the claims, about the same peak."""
    import tracemalloc

    peaks = []
    for claims in (200, 2000):
        tracemalloc.start()
        count = 0
        for record in x12.read_x12(_synthetic_837(claims), "big.x12"):
            assert not isinstance(record.data, ClaimError), record.data
            count += 1
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == claims * 2  # the template's subscriber loop holds two claims
    assert peaks[1] < peaks[0] * 1.5, peaks


_PIECES = st.sampled_from([
    "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250310*1200*^*00501*"
    "000000101*0*T*:~", "GS*HC*A*B*20250310*1200*101*X*005010X222A1~",
    "ST*837*0001*005010X222A1~", "HL*1**20*1~", "HL*2*1*22*0~", "HL*3*2*23*0~",
    "NM1*85*2*X*****XX*1234567893~", "N4*C*OH*43215~", "SBR*P*18*******MB~",
    "NM1*IL*1*A*B****MI*M1~", "CLM*C1*100***11:B:1*Y*A*Y*Y~", "CLM*~", "LX*1~",
    "SV1*HC:77385*100*UN*1***1~", "SV1*HC77385~", "SV2*0333*HC:77387*1*UN*1E9~",
    "DTP*472*D8*20250303~", "DTP*434*RD8*20250301-20250305~", "SE*5*0001~", "GE*1*101~",
    "IEA*1*000000101~", "~", "\n", "\ufeff", "*", ":", "ZZ*1~", "ISA*", "GS*HC~", "\x00",
])


@settings(max_examples=150)
@given(st.lists(_PIECES | st.text(max_size=12), max_size=60))
def test_any_text_is_read_without_raising_and_every_clm_is_a_record(pieces: list[str]) -> None:
    text = "".join(pieces)
    records = list(x12.read_x12([text], "fuzz.x12"))
    numbers = [r.number for r in records if r.number]
    assert numbers == list(range(1, len(numbers) + 1))
    for record in records:
        assert isinstance(record.data, Claim | ClaimError)
        if isinstance(record.data, ClaimError):
            assert record.data.issues
    assert [r.data for r in x12.read_x12(io.BytesIO(text.encode("utf-8")), "fuzz.x12")] == \
        [r.data for r in records]


def test_every_issue_has_a_type_a_program_can_rely_on() -> None:
    text = P837.read_text()
    damaged = (text.replace("SE*129*0001", "SE*1*0001")
               .replace("SV1*HC:77385*850*UN*1***1~", "SV1*HC>77385*850*UN*1E9***1~", 1)
               .replace("HI*ABK:C61~", "HI*ABK:C61~~ZZZ*1~", 1))
    types = {issue.type for error in errors(read(damaged[: damaged.index("CLM*P-2003")]))
             for issue in error.issues}
    assert types == {x12.SEPARATOR, x12.SEGMENT, x12.CUT_OFF, x12.ENVELOPE}


def test_validate_findings_never_quote_patient_segments() -> None:
    pytest.importorskip("pyx12", reason="--validate needs the x12 extra")
    from claimedit.adapters.x12_validate import VALIDATION, validate_x12

    text = P837.read_text().replace(
        "NM1*IL*1*TESTPATIENT*ALPHA****MI*0TE0ST0AA00",
        f"NM1*IL*1*{PRIVATE * 8}*ALPHA****MI*{PRIVATE}$%")
    text = text.replace("N3*1 EXAMPLE LANE", f"N3*{PRIVATE * 10}", 1)
    text = text.replace("DMG*D8*19520214*F", f"DMG*D8*{PRIVATE}*F", 1)
    findings = validate_x12([text])
    issues = [issue for found in findings.values() for issue in found]
    assert {issue.field for issue in issues} >= {"2010BA NM103 (segment 16)",
                                                 "2010BA N301 (segment 17)",
                                                 "2010BA DMG02 (segment 19)"}
    assert all(issue.type == VALIDATION for issue in issues)
    assert not [issue for issue in issues if PRIVATE in issue.field + issue.reason]
    # The subscriber loop is above every claim: its findings are file-level records (0).
    found = errors(list(x12.read_x12([text], "v.x12", findings=findings)))
    assert {error.record for error in found} == {0}
    assert not [str(error) for error in found if PRIVATE in str(error)]
