"""``claimedit ncci import``: files in the CMS layouts (plain and zipped) in, a pack out; bad rows
reported with file and line; the same files give the same pack."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import yaml

from claimedit import load_engine
from claimedit.ncci.importer import NcciImportError, import_ncci
from claimedit.ncci.synthetic import write_mue_file, write_ptp_files
from claimedit.ncci.table import MueTable, PairRow, PtpTable

D = dt.date
PLANTED = [
    PairRow("G6002", "G6001", D(2015, 1, 1), None, False, 0, "Mutually exclusive procedures"),
    PairRow("77014", "G6001", D(2015, 1, 1), None, False, 1, "Mutually exclusive procedures"),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    folder = tmp_path_factory.mktemp("cms")
    ptp = write_ptp_files(folder, 400, files=4, zipped=True, codes=60, planted=PLANTED)
    mue = write_mue_file(folder, 50, zipped=True)
    return ptp, mue


def test_import_zipped_files(sources: tuple[list[Path], Path], tmp_path: Path) -> None:
    ptp, mue = sources
    with zipfile.ZipFile(ptp[0]) as archive:  # the Excel copy beside the text is not read
        assert sorted(archive.namelist()) == ["ccipra-v302r0-f1.TXT", "ccipra-v302r0-f1.xlsx"]
    report = import_ncci(setting="practitioner", ptp=ptp, mue=mue, out=tmp_path / "pack",
                         payers=["medicare", "medicaid"])
    assert (report.ptp_rows, report.mue_rows, report.quarter) == (400, 50, "2024Q3")
    assert report.content_hash.startswith("sha256:")
    meta = yaml.safe_load((tmp_path / "pack" / "pack.yaml").read_text())
    imported = meta["imported_from"]
    assert imported["quarter"] == "2024Q3" and imported["payers"] == ["medicare", "medicaid"]
    assert [f["name"] for f in imported["ptp"]["files"]] == [p.name for p in ptp]
    assert sum(f["rows"] for f in imported["ptp"]["files"]) == 400
    assert imported["ptp"]["files"][0]["members"] == ["ccipra-v302r0-f1.TXT"]
    assert imported["ptp"]["files"][0]["size"] == ptp[0].stat().st_size
    assert imported["mue"]["rows"] == 50
    edits = yaml.safe_load(next((tmp_path / "pack" / "edits").iterdir()).read_text())["edits"]
    assert [(e["kind"], e["table"], e["payers"]) for e in edits] == [
        ("ptp_table_file", "tables/ptp.bin", ["medicare", "medicaid"]),
        ("mue_table_file", "tables/mue.bin", ["medicare", "medicaid"])]
    table = PtpTable.open(tmp_path / "pack" / "tables" / "ptp.bin")
    assert table.in_force("G6002", "G6001", D(2024, 9, 3)) == PLANTED[0]
    assert len(MueTable.open(tmp_path / "pack" / "tables" / "mue.bin")) == 50


def test_same_files_same_hash(sources: tuple[list[Path], Path], tmp_path: Path) -> None:
    ptp, mue = sources
    first = import_ncci(setting="practitioner", ptp=ptp, mue=mue, out=tmp_path / "a")
    # again, the files in another order, into another directory, and over an earlier import
    second = import_ncci(setting="practitioner", ptp=ptp[::-1], mue=mue, out=tmp_path / "b")
    third = import_ncci(setting="practitioner", ptp=ptp, mue=mue, out=tmp_path / "a")
    assert first.content_hash == second.content_hash == third.content_hash
    other = import_ncci(setting="practitioner", ptp=ptp[:3], mue=mue, out=tmp_path / "c")
    assert other.content_hash != first.content_hash


def _bad_source(folder: Path) -> Path:
    rows: list[PairRow | str] = [*PLANTED, "77014\tG6002\t\t20150132\t*\t1\tx"]
    return write_ptp_files(folder, rows, files=1)[0]


def test_unreadable_row_fails_the_import(tmp_path: Path) -> None:
    source = _bad_source(tmp_path / "in")
    with pytest.raises(NcciImportError) as caught:
        import_ncci(setting="practitioner", ptp=[source], out=tmp_path / "pack")
    assert caught.value.bad_rows
    assert [str(p) for p in caught.value.problems] == [
        "ccipra-v302r0-f1.txt:9: effective date '20150132' is not a date YYYYMMDD"]
    assert "--skip-bad-rows" in str(caught.value)
    assert not (tmp_path / "pack").exists()


def test_skip_bad_rows_imports_the_rest(tmp_path: Path) -> None:
    source = _bad_source(tmp_path / "in")
    report = import_ncci(setting="practitioner", ptp=[source], out=tmp_path / "pack",
                         skip_bad_rows=True)
    assert report.ptp_rows == 2 and len(report.skipped) == 1
    meta = yaml.safe_load((tmp_path / "pack" / "pack.yaml").read_text())["imported_from"]
    assert meta["rows_skipped"] == 1
    assert meta["skipped"] == ["ccipra-v302r0-f1.txt:9: effective date '20150132' is not a "
                               "date YYYYMMDD"]


def test_file_problems(sources: tuple[list[Path], Path], tmp_path: Path) -> None:
    ptp, _ = sources
    hospital = write_mue_file(tmp_path / "in", 5, setting="outpatient-hospital")
    with pytest.raises(NcciImportError) as caught:
        import_ncci(setting="outpatient-hospital", ptp=[*ptp, tmp_path / "missing.txt"],
                    mue=hospital, out=tmp_path / "pack")
    assert not caught.value.bad_rows
    assert [str(p) for p in caught.value.problems] == [f"{tmp_path / 'missing.txt'}: no such file"]
    with pytest.raises(NcciImportError) as caught:
        import_ncci(setting="outpatient-hospital", ptp=ptp[:1], mue=hospital,
                    out=tmp_path / "pack")
    assert [str(p) for p in caught.value.problems] == [
        "ccipra-v302r0-f1.zip: a practitioner PTP table (ccipra-*), not outpatient-hospital"]
    with pytest.raises(NcciImportError) as caught:
        import_ncci(setting="practitioner", ptp=ptp[:1], mue=hospital, out=tmp_path / "pack")
    assert [str(p) for p in caught.value.problems] == [
        f"{hospital.name}: the header names outpatient-hospital MUE values, not practitioner"]


def test_quarter(sources: tuple[list[Path], Path], tmp_path: Path) -> None:
    ptp, _ = sources
    older = write_mue_file(tmp_path / "in", 5, quarter="2024-q2")
    with pytest.raises(NcciImportError, match="different quarters"):
        import_ncci(setting="practitioner", ptp=ptp, mue=older, out=tmp_path / "pack")
    report = import_ncci(setting="practitioner", ptp=ptp, mue=older, out=tmp_path / "pack",
                         quarter="2024q3")
    assert report.quarter == "2024Q3"
    renamed = tmp_path / "ptp.txt"
    renamed.write_bytes(_bad_source(tmp_path / "x").read_bytes())
    with pytest.raises(NcciImportError, match="give --quarter"):
        import_ncci(setting="practitioner", ptp=[renamed], out=tmp_path / "p2",
                    skip_bad_rows=True)


def test_out_must_be_new_or_an_earlier_import(sources: tuple[list[Path], Path],
                                              tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(NcciImportError, match="not a pack an earlier import wrote"):
        import_ncci(setting="practitioner", ptp=sources[0], out=tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_medicaid_files_import_the_same_way(tmp_path: Path) -> None:
    source = write_ptp_files(tmp_path / "in", list(PLANTED), files=1)[0]
    medicaid = source.with_name("medicaid-ncci-q3-2024-ptp-edits-practitioner-services-f1.txt")
    source.rename(medicaid)
    report = import_ncci(setting="practitioner", ptp=[medicaid], payers=["medicaid"],
                         out=tmp_path / "pack")
    meta = yaml.safe_load((tmp_path / "pack" / "pack.yaml").read_text())
    assert (report.quarter, report.ptp_rows) == ("2024Q3", 2)
    assert meta["imported_from"]["program"] == "medicaid"
    assert meta["title"].startswith("CMS Medicaid NCCI")
    edits = yaml.safe_load(next((tmp_path / "pack" / "edits").iterdir()).read_text())["edits"]
    assert [edit["id"] for edit in edits] == ["NCCI-PTP-PRACTITIONER-MEDICAID"]
    assert edits[0]["payers"] == ["medicaid"]


def test_outpatient_hospital_tables_are_for_institutional_claims(tmp_path: Path) -> None:
    ptp = write_ptp_files(tmp_path / "in", list(PLANTED), files=1, setting="outpatient-hospital")
    mue = write_mue_file(tmp_path / "in", 5, setting="outpatient-hospital")
    assert ptp[0].name == "ccioph-v302r0-f1.txt"
    import_ncci(setting="outpatient-hospital", ptp=ptp, mue=mue, out=tmp_path / "pack")
    engine = load_engine(tmp_path / "pack")
    claim = {"claim_id": "H", "payer": "medicare", "lines": [
        {"code": "G6002", "date_of_service": "2024-09-03"},
        {"code": "G6001", "date_of_service": "2024-09-03"}]}
    assert engine.evaluate({**claim, "claim_type": "institutional"}).lines[1].rule_ids == (
        "NCCI-PTP-OUTPATIENT-HOSPITAL-MEDICARE",)
    assert engine.evaluate(claim).lines[1].rule_ids == ()  # professional by default


def test_damaged_archive_and_empty_table(sources: tuple[list[Path], Path], tmp_path: Path) -> None:
    ptp, mue = sources
    cut = tmp_path / ptp[0].name
    data = ptp[0].read_bytes()
    cut.write_bytes(data[:40] + b"\0" * 200 + data[240:])  # the member's data damaged
    with pytest.raises(NcciImportError) as caught:
        import_ncci(setting="practitioner", ptp=[cut], mue=mue, out=tmp_path / "pack")
    assert not caught.value.bad_rows
    assert [str(p).split(": cannot read: ")[0] for p in caught.value.problems] == [
        "ccipra-v302r0-f1.zip!ccipra-v302r0-f1.TXT"]
    assert not (tmp_path / "pack").exists()
    empty = write_ptp_files(tmp_path / "empty", [], files=1)
    with pytest.raises(NcciImportError, match="no rows read: nothing to import"):
        import_ncci(setting="practitioner", ptp=empty, out=tmp_path / "pack")
