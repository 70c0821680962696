"""The packaged ncci-radonc pack is what its build script makes of the CMS file subsets it ships
with (``tools/cms/``): rebuilt from them, byte for byte, and faithful to their rows."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import claimedit
from claimedit.pack import packaged_packs
from claimedit.pack.models import PtpTableEdit, UnitLimitEdit

ROOT = Path(__file__).resolve().parents[1]
CMS = ROOT / "tools" / "cms"


def _build_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_ncci_radonc",
                                                  ROOT / "tools" / "build_ncci_radonc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pack_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    _build_module().build(CMS, tmp_path)
    shipped = packaged_packs()["ncci-radonc"]
    for name in ("codes.yaml", "edits/2024q3.yaml"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name


def test_every_row_in_force_is_a_pair_of_its_table() -> None:
    pack = claimedit.load_pack(packaged_packs()["ncci-radonc"])
    tables = {item.edit.id: item.edit for item in pack.edits
              if isinstance(item.edit, PtpTableEdit)}
    settings = {"practitioner": "NCCI-PTP-PRACTITIONER", "outpatient_hospital": "NCCI-PTP-HOSPITAL"}
    with (CMS / "ncci_ptp_medicare_2024q3_radonc.csv").open(encoding="utf-8") as handle:
        # In force on the release date: not deleted by 2024-07-01 (written from CMS's meaning of
        # the deletion date, not from the build script's filter). A row deleted later in the
        # quarter would need an end date the pack does not carry: there is none in the subset.
        rows = [row for row in csv.DictReader(handle) if row["deletion_date"] > "2024-07-01"]
    assert all(row["deletion_date"] == "9999-12-31" for row in rows)
    want = {(settings[r["setting"]], r["column1"], r["column2"], int(r["modifier_indicator"]))
            for r in rows}
    got = {(rule_id, pair.column1, pair.column2, pair.modifier_indicator)
           for rule_id, edit in tables.items() for pair in edit.pairs}
    assert got == want


def test_every_mue_is_a_limit_of_its_table() -> None:
    pack = claimedit.load_pack(packaged_packs()["ncci-radonc"])
    got = set()
    for item in pack.edits:
        edit = item.edit
        if isinstance(edit, UnitLimitEdit):
            table = "Practitioner" if edit.claim_types == (claimedit.ClaimType.PROFESSIONAL,) \
                else "Outpatient Hospital"
            got |= {(code, edit.max_units, edit.adjudication_indicator, table)
                    for code in edit.codes.codes}
    with (CMS / "ncci_mue_medicare_2024q3_radonc.csv").open(encoding="utf-8") as handle:
        want = {(r["hcpcs_code"], int(r["mue_units"]), int(r["mue_mai"]), r["mue_service"])
                for r in csv.DictReader(handle)}
    assert got == want
