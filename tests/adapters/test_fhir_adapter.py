"""FHIR R4: Claim resources shaped like HL7's published professional and institutional examples
in, ClaimResponses out, and back: every response is checked against the Claim it answers and
against the engine's own results for the same claim."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claimresponse import ClaimResponse
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit
from claimedit import ClaimError, ClaimResult, Payer, parse_claim
from claimedit.adapters import fhir
from claimedit.inputs import read_records
from claimedit.outputs import WRITERS

DATA = Path(__file__).resolve().parents[1] / "data"
PROFESSIONAL = DATA / "fhir_claim_professional.json"
INSTITUTIONAL = DATA / "fhir_claim_institutional.json"
BUNDLE = DATA / "fhir_bundle_claims.json"


def read(path: Path, **options: Any) -> list[Any]:
    with path.open(encoding="utf-8") as handle:
        return [record.data for record in fhir.read_fhir(handle, path.name, **options)]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def claim(**changes: Any) -> dict[str, Any]:
    """The professional example with some top-level elements changed (None removes one)."""
    resource = load(PROFESSIONAL)
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def read_one(resource: dict[str, Any], **options: Any) -> Any:
    [record] = fhir.read_fhir([json.dumps(resource)], "claim.json", **options)
    return record.data


# --- Claim -> claimedit claim -------------------------------------------------------------------


def test_professional_claim_maps_items_coverage_and_provider() -> None:
    [data] = read(PROFESSIONAL)
    assert data == {
        "claim_id": "860150",
        "payer": "medicare",  # contained Coverage, SOPT 121 (Medicare FFS) under prefix 1
        "state": "OH",  # contained provider Organization's address
        "claim_type": "professional",  # Claim.type
        "patient_id": "Patient/synthetic-1",  # no Patient resource: the reference
        "provider_id": "1234567893",  # the provider's NPI identifier
        "lines": [
            {"line_id": "1", "code": "77412", "date_of_service": "2025-06-02", "charge": "420.0"},
            {"line_id": "2", "code": "77387", "modifiers": ["26"], "date_of_service": "2025-06-02",
             "units": 1, "charge": "75.0"},
            {"line_id": "3", "code": "G6002", "modifiers": ["26"], "date_of_service": "2025-06-02",
             "units": 1, "charge": "60.0"},
        ],
    }


def test_institutional_claim_dates_fall_back_on_the_billable_period() -> None:
    [data] = read(INSTITUTIONAL)
    assert data["payer"] == "medicaid"  # SOPT 21, Medicaid managed care
    assert data["state"] is None  # the provider is a reference the file does not hold
    assert [(line["code"], line["date_of_service"]) for line in data["lines"]] == [
        ("77385", "2025-06-09"), ("77387", "2025-06-09")]


def test_bundle_claims_are_records_by_entry_and_broken_ones_do_not_stop_the_rest() -> None:
    with BUNDLE.open(encoding="utf-8") as handle:
        records = list(fhir.read_fhir(handle, "bundle.json"))
    assert [record.number for record in records] == [4, 5, 6, 7, 8]
    good = {record.data["claim_id"]: record.data for record in records
            if not isinstance(record.data, ClaimError)}
    assert sorted(good) == ["B-1", "B-2", "B-4", "B-5"]
    # Coverage/private-1 (SOPT 51) and Coverage/advantage-1 (SOPT 111) resolve in the Bundle,
    # and so does the provider Organization, by Type/id.
    assert [(c["payer"], c["state"]) for c in good.values()] == [
        ("commercial", "TX"), ("medicare", "TX"), ("commercial", "TX"), ("commercial", "TX")]
    assert good["B-1"]["lines"][3] == {"line_id": "4", "code": "G6017", "modifiers": ["26"],
                                       "date_of_service": "2025-05-14", "units": 2}
    errors = {record.data.claim_id: record.data for record in records
              if isinstance(record.data, ClaimError)}
    assert errors["B-3"].record == 6
    assert errors["B-3"].issues == (
        claimedit.FieldIssue("Bundle.entry[5].resource.item",
                             "the Claim has no items: there is no line to evaluate"),)
    # B-4's second item has no CPT/HCPCS coding: left out with a note, the first decided.
    [b4] = [record for record in records if record.number == 7]
    assert [line["code"] for line in b4.data["lines"]] == ["77385"]
    [note] = b4.notes
    assert note.field == "Bundle.entry[6].resource.item[1].productOrService"
    assert note.reason.startswith("no CPT or HCPCS coding")
    assert note.reason.endswith("the item is not evaluated")


def test_invalid_fhir_is_reported_with_fhir_paths() -> None:
    resource = claim(patient=None)
    resource["item"][1]["servicedDate"] = "2025-13-02"
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    assert error.claim_id == "860150"
    assert {issue.field for issue in error.issues} == {"Claim.patient",
                                                       "Claim.item[1].servicedDate"}


def test_values_the_claim_model_refuses_are_named_by_their_fhir_place() -> None:
    resource = claim()
    resource["item"][0]["productOrService"]["coding"][0]["code"] = "7741"
    resource["item"][2]["servicedDate"] = "2025-06"  # a valid FHIR date, not a date of service
    resource["item"][1]["quantity"]["value"] = 1.5
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    assert [issue.field for issue in error.issues] == [
        "Claim.item[0].productOrService", "Claim.item[1].quantity.value",
        "Claim.item[2].servicedDate"]


def test_a_claim_without_any_date_is_an_error_on_the_item() -> None:
    resource = load(INSTITUTIONAL)
    del resource["billablePeriod"]
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    assert [issue.field for issue in error.issues] == ["Claim.item[0].servicedDate",
                                                       "Claim.item[1].servicedDate"]


def test_an_item_without_a_date_in_a_billable_period_of_several_days_is_an_error() -> None:
    """Every item of a month-long institutional claim on the period's first day made same-day
    edits judge items of different days together (77387 bundled into another day's IMRT).
    The billable period stands for an item's date only when it is one day."""
    resource = load(INSTITUTIONAL)
    assert resource["billablePeriod"] == {"start": "2025-06-09", "end": "2025-06-09"}
    assert all("servicedDate" not in item for item in resource["item"])
    one_day = read_one(resource)
    assert {line["date_of_service"] for line in one_day["lines"]} == {"2025-06-09"}
    resource["billablePeriod"]["end"] = "2025-06-30"
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    assert [(issue.field, issue.type) for issue in error.issues] == [
        ("Claim.item[0].servicedDate", "missing"), ("Claim.item[1].servicedDate", "missing")]
    assert "Claim.billablePeriod covers several days" in error.issues[0].reason
    resource["item"][1]["servicedDate"] = "2025-06-10"  # an item's own date still stands
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    assert [issue.field for issue in error.issues] == ["Claim.item[0].servicedDate"]


def test_payer_type_from_insurer_mapping_or_default_when_the_coverage_is_not_sent() -> None:
    resource = claim(insurance=[{"sequence": 1, "focal": True,
                                 "coverage": {"reference": "Coverage/elsewhere"}}])
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    [issue] = error.issues
    assert issue.field == "Claim.insurance[0].coverage"
    assert "neither contained nor in the Bundle" in issue.reason
    insurers = {"Organization/synthetic-medicare-contractor": Payer.MEDICAID}
    assert read_one(resource, insurers=insurers)["payer"] == "medicaid"
    assert read_one(resource, default_payer="commercial")["payer"] == "commercial"


def test_a_claim_with_an_empty_insurance_list_is_an_error_record_not_a_crash() -> None:
    """fhir.resources accepts ``insurance: []``; the reader used to index its first item and
    stop the whole file with an IndexError."""
    resource = claim(insurance=[])
    error = read_one(resource)
    assert isinstance(error, ClaimError)
    [issue] = error.issues
    assert issue.field == "Claim.insurance"
    assert "lists no insurance" in issue.reason
    assert read_one(resource, default_payer="medicare")["payer"] == "medicare"


def test_payer_types_mapping_is_overridable() -> None:
    sopt = {**fhir.PAYER_TYPES[fhir.SOPT_SYSTEM], "12": Payer.COMMERCIAL}
    # 121 now falls under the longer prefix 12 rather than 1.
    assert read_one(claim(), payer_types={fhir.SOPT_SYSTEM: sopt})["payer"] == "commercial"
    error = read_one(claim(), payer_types={})
    assert isinstance(error, ClaimError)
    assert error.issues[0].field == "Claim.insurance[0].coverage"


def test_ndjson_lines_are_records_and_a_bad_line_is_one_error() -> None:
    lines = [json.dumps(load(PROFESSIONAL)) + "\n", "{not json\n", "\n",
             json.dumps(load(INSTITUTIONAL)) + "\n"]
    records = list(fhir.read_fhir(lines, "claims.ndjson"))
    assert [record.number for record in records] == [1, 2, 4]
    assert [type(record.data).__name__ for record in records] == ["dict", "ClaimError", "dict"]
    # Lines are lines whatever the chunks the text comes in.
    text = "".join(lines)
    chunks = [text[i:i + 5] for i in range(0, len(text), 5)]
    assert list(fhir.read_fhir(chunks, "claims.ndjson")) == records
    document = PROFESSIONAL.read_text(encoding="utf-8")
    assert list(fhir.read_fhir([document], "c.json")) == list(
        fhir.read_fhir(document.splitlines(keepends=True), "c.json"))


def test_other_resources_are_not_claims() -> None:
    [record] = fhir.read_fhir(['{"resourceType": "Patient", "id": "p"}'], "p.json")
    assert isinstance(record.data, ClaimError)
    assert record.data.issues[0].field == "resourceType"
    [record] = fhir.read_fhir(['{"resourceType": "Bundle", "type": "collection"}'], "b.json")
    assert isinstance(record.data, ClaimError)
    assert record.data.issues[0].reason == "the Bundle holds no Claim resource"


def test_read_records_detects_pretty_printed_fhir_whatever_the_file_name() -> None:
    text = PROFESSIONAL.read_text(encoding="utf-8")
    for name in ("claim.json", "claim.txt", "-"):
        [record] = read_records(io.StringIO(text), name)
        assert record.data["claim_id"] == "860150"


# --- claimedit results -> ClaimResponse -----------------------------------------------------------


def check_response(response: ClaimResponse, resource: dict[str, Any], result: ClaimResult) -> None:
    """The response answers the Claim item by item with exactly the engine's reasons."""
    # Valid R4 on the wire: what we print parses back into the model.
    wire = ClaimResponse.model_validate_json(response.model_dump_json())
    assert wire.request.reference == f"Claim/{resource['id']}"
    assert wire.patient.reference == resource["patient"]["reference"]
    assert wire.insurer.reference == resource["insurer"]["reference"]
    assert wire.type.coding[0].code == resource["type"]["coding"][0]["code"]
    assert [item.itemSequence for item in wire.item] == [i["sequence"] for i in resource["item"]]
    for item, line in zip(wire.item, result.lines, strict=True):
        decision, *reasons = item.adjudication
        assert decision.category.coding[0].system == fhir.DECISION_SYSTEM
        assert decision.category.coding[0].code == line.decision.value
        assert len(reasons) == len(line.reasons)
        for adjudication, reason in zip(reasons, line.reasons, strict=True):
            assert [(c.system, c.code) for c in adjudication.category.coding] == [
                (fhir.GROUP_CODE_SYSTEM, reason.group_code)]
            # One concept per CodeableConcept: the CARC is the reason; the rule and the
            # remark codes are extensions of the adjudication, each its own meaning.
            assert [(c.system, c.code) for c in adjudication.reason.coding] == [
                (fhir.CARC_SYSTEM, reason.carc)]
            assert [(e.url, e.valueCoding.system, e.valueCoding.code)
                    for e in adjudication.extension] == [
                (fhir.RULE_EXTENSION, fhir.RULE_SYSTEM, reason.rule_id),
                *[(fhir.RARC_EXTENSION, fhir.RARC_SYSTEM, rarc) for rarc in reason.rarcs]]
            assert adjudication.reason.text == reason.message


@pytest.mark.parametrize("path", [PROFESSIONAL, INSTITUTIONAL],
                         ids=["professional", "institutional"])
def test_round_trip_claim_to_claim_response(path: Path, engine: claimedit.Engine) -> None:
    resource = load(path)
    [data] = read(path)
    result = engine.evaluate(data)
    response = fhir.claim_response(result, resource, created=dt.date(2025, 6, 12))
    check_response(response, resource, result)
    assert response.created == dt.date(2025, 6, 12)
    # The line the policy acts on in each example: 77387-26 for Medicare, 77387 with IMRT for
    # Medicaid; in both the engine's reasons reached the response.
    acted = [line for line in result.lines if line.reasons]
    assert len(acted) == 1 and acted[0].code == "77387"


def test_response_without_the_claim_marks_unknown_elements_absent(engine: claimedit.Engine) -> None:
    [data] = read(PROFESSIONAL)
    response = fhir.claim_response(engine.evaluate(data))
    absent = response.patient.extension[0]
    assert (absent.url, absent.valueCode) == (
        "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "unknown")
    assert response.request.reference == "Claim/860150"
    ClaimResponse.model_validate_json(response.model_dump_json())


def test_claim_ids_that_are_not_fhir_ids_are_referenced_by_identifier(
        engine: claimedit.Engine) -> None:
    result = engine.evaluate({"claim_id": "A 1/2", "payer": "medicare", "lines": [
        {"code": "77387", "date_of_service": "2025-06-02"}]})
    response = fhir.claim_response(result)
    assert response.request.reference is None
    assert response.request.identifier.value == "A 1/2"
    assert response.item[0].itemSequence == 1  # no line id: the line's position


def test_fhir_writer_prints_a_bundle_of_responses_and_outcomes(engine: claimedit.Engine) -> None:
    out, err = io.StringIO(), io.StringIO()
    writer = WRITERS["fhir"](out, err)
    with BUNDLE.open(encoding="utf-8") as handle:
        for record in fhir.read_fhir(handle, "bundle.json"):
            data = record.data
            writer.write(data if isinstance(data, ClaimError) else engine.evaluate(data))
    writer.close()
    bundle = Bundle.model_validate_json(out.getvalue())
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["ClaimResponse", "ClaimResponse", "OperationOutcome", "ClaimResponse",
                     "ClaimResponse"]
    outcome = bundle.entry[2].resource
    assert outcome.issue[0].expression == ["Bundle.entry[5].resource.item"]
    assert "record 6 (claim B-3)" in outcome.issue[0].diagnostics
    assert "summary: 4 claims" in err.getvalue()


# --- claimedit claim -> FHIR Claim -> claimedit claim -------------------------------------------

CODES = ("77385", "77386", "77387", "77014", "77412", "G6001", "G6002", "G6015", "G6017", "99213")
claims = st.builds(
    lambda claim_id, payer, state, lines: {"claim_id": claim_id, "payer": payer, "state": state,
                                           "lines": lines},
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,20}", fullmatch=True),
    st.sampled_from([payer.value for payer in Payer]),
    st.sampled_from([None, "OH", "TX"]),
    st.lists(st.fixed_dictionaries({
        "code": st.sampled_from(CODES),
        "modifiers": st.lists(st.sampled_from(["26", "TC", "59", "XS"]), max_size=2, unique=True),
        "date_of_service": st.dates(dt.date(2015, 1, 1), dt.date(2026, 12, 31)),
        "units": st.integers(1, 4),
    }), min_size=1, max_size=5),
)


@settings(max_examples=40)
@given(claims)
def test_claim_to_fhir_and_back_is_the_same_claim(data: dict[str, Any]) -> None:
    for number, line in enumerate(data["lines"], start=1):
        line["line_id"] = str(number)
    original = parse_claim(copy.deepcopy(data))
    assert not isinstance(original, ClaimError)
    resource = fhir.claim_to_fhir(original, created=dt.date(2025, 1, 1))
    back = read_one(json.loads(resource.model_dump_json()))
    assert parse_claim(back) == original


# --- FHIR as others write it (issue 10) ---------------------------------------------------------


def test_a_minified_bundle_numbers_its_records_by_entry_as_a_pretty_one() -> None:
    document = load(BUNDLE)
    pretty = [(r.number, getattr(r.data, "claim_id", None) or r.data["claim_id"])
              for r in fhir.read_fhir([json.dumps(document, indent=2)], "b.json")]
    minified = [(r.number, getattr(r.data, "claim_id", None) or r.data["claim_id"])
                for r in fhir.read_fhir([json.dumps(document, separators=(",", ":"))], "b.json")]
    assert minified == pretty == [(4, "B-1"), (5, "B-2"), (6, "B-3"), (7, "B-4"), (8, "B-5")]
    # NDJSON of Claims still numbers by line.
    ndjson = "\n".join(json.dumps(claim(id=f"N-{k}")) for k in range(3))
    assert [r.number for r in fhir.read_fhir([ndjson], "c.ndjson")] == [1, 2, 3]


@pytest.mark.parametrize("entry", [5, "entries", {"resource": {}}, True])
def test_a_bundle_whose_entry_is_not_a_list_is_an_error_record(entry: Any) -> None:
    [record] = fhir.read_fhir([json.dumps({"resourceType": "Bundle", "entry": entry})], "b.json")
    assert isinstance(record.data, ClaimError)
    assert record.data.issues[0].field == "Bundle.entry"


def test_a_claim_with_an_unknown_contained_resource_is_an_error_record() -> None:
    resource = claim()
    resource["contained"].append({"resourceType": "Frobnicator", "id": "x"})
    resource["contained"].append("not a resource")
    error = read_one(resource)
    assert isinstance(error, ClaimError) and error.claim_id == "860150"
    assert [issue.field for issue in error.issues] == [
        f"Claim.contained[{k}].resourceType" for k in (len(resource["contained"]) - 2,
                                                       len(resource["contained"]) - 1)]


def test_claim_type_frequency_patient_provider_and_charge() -> None:
    institutional = read_one(claim(type={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]}))
    assert institutional["claim_type"] == "institutional"
    oral = read_one(claim(type={"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "oral"}]}))
    assert isinstance(oral, ClaimError) and oral.issues[0].field == "Claim.type"
    assert read_one(claim(status="cancelled"))["frequency_code"] == "8"
    replacing = claim(related=[{"relationship": {"coding": [{"code": "prior"}]},
                                "claim": {"reference": "Claim/860149"}}])
    assert read_one(replacing)["frequency_code"] == "7"
    assert "frequency_code" not in read_one(claim())  # an original: the default 1
    # The patient's member id when the Patient resource is at hand.
    resource = claim(patient={"reference": "#patient"})
    resource["contained"].append({"resourceType": "Patient", "id": "patient", "identifier": [
        {"system": "urn:mrn", "value": "MRN-1"},
        {"type": {"coding": [{"code": "MB"}]}, "system": "urn:plan", "value": "MEMBER-7"}]})
    assert read_one(resource)["patient_id"] == "MEMBER-7"
    # A social security number is never the patient id (it would be kept in the claim history):
    # the next identifier is, or the reference when there is none.
    resource["contained"][-1]["identifier"] = [
        {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-00-1234"},
        {"type": {"coding": [{"code": "SS"}]}, "value": "999001234"},
        {"system": "urn:mrn", "value": "MRN-1"}]
    assert read_one(resource)["patient_id"] == "MRN-1"
    del resource["contained"][-1]["identifier"][2]
    assert read_one(resource)["patient_id"] == "#patient"
    # Charge: item.net, else unitPrice x quantity to the cent.
    resource = claim()
    for item in resource["item"]:
        item.pop("net", None)
    resource["item"][0]["unitPrice"] = {"value": 33.335, "currency": "USD"}
    resource["item"][0]["quantity"] = {"value": 3}
    assert read_one(resource)["lines"][0]["charge"] == "100.01"


def test_format_fhir_with_line_ids_that_are_not_sequences_stays_valid_json(
    engine: claimedit.Engine,
) -> None:
    """A line id "0" (or "A") cannot be an itemSequence (a positive integer): the line's
    position stands in, and the Bundle is whole (it used to stop half-written)."""
    out, err = io.StringIO(), io.StringIO()
    writer = WRITERS["fhir"](out, err)
    writer.write(engine.evaluate({"claim_id": "C0", "payer": "medicare", "lines": [
        {"line_id": "0", "code": "77385", "date_of_service": "2025-06-02"},
        {"line_id": "A", "code": "77387", "date_of_service": "2025-06-02"}]}))
    writer.close()
    bundle = Bundle.model_validate_json(out.getvalue())
    assert [i.itemSequence for i in bundle.entry[0].resource.item] == [1, 2]


def test_notes_on_a_claim_are_process_notes_of_its_response(engine: claimedit.Engine) -> None:
    records = list(fhir.read_fhir([BUNDLE.read_text(encoding="utf-8")], "b.json"))
    [b4] = [r for r in records if r.number == 7]
    result = engine.evaluate(b4.data)._replace(notes=b4.notes)
    response = fhir.claim_response(result)
    [note] = response.processNote
    assert note.text.startswith("Bundle.entry[6].resource.item[1].productOrService: no CPT")
