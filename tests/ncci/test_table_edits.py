"""The table-backed edit kinds (``ptp_table_file``, ``mue_table_file``) in the engine, on a pack
imported from synthetic tables in the CMS layouts with rows planted as CMS describes them."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from claimedit import Engine, RulePackError, load_engine
from claimedit.cli import main
from claimedit.ncci.importer import import_ncci
from claimedit.ncci.synthetic import (
    synthetic_mue,
    synthetic_pairs,
    write_mue_file,
    write_ptp_files,
)
from claimedit.ncci.table import MueLimit, PairRow

D = dt.date
PLANTED = [
    PairRow("G6002", "G6001", D(2015, 1, 1), None, False, 0, "Mutually exclusive procedures"),
    PairRow("77014", "G6001", D(2015, 1, 1), None, False, 1, "Mutually exclusive procedures"),
    PairRow("77014", "77387", D(2015, 1, 1), D(2015, 1, 1), False, 9, "Misuse of column two"),
    PairRow("77371", "77427", D(2010, 1, 1), D(2023, 12, 31), True, 0, "Standards of practice"),
    # the same pair deleted, then put back with another indicator
    PairRow("77402", "77014", D(2016, 1, 1), D(2019, 12, 31), False, 0, "More extensive"),
    PairRow("77402", "77014", D(2020, 1, 1), None, False, 1, "More extensive"),
]
PLANTED_MUE = [MueLimit("G6001", 2, 3, "Clinical: Data"), MueLimit("77387", 1, 2, "Policy"),
               MueLimit("77014", 2, 1, "Anatomic Consideration")]
CODES = ["G6001", "G6002", "77014", "77387", "77371", "77427", "77402", "99213", "36415"]
# Every row of the table: the planted ones among random ones over 40 codes (dense: most pairs of
# CODES have a row), so the reference below reads the same rows the import read.
ROWS = synthetic_pairs(300, codes=40, planted=PLANTED)
LIMITS = synthetic_mue(30, planted=PLANTED_MUE)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ncci")
    ptp = write_ptp_files(folder / "cms", ROWS, files=4, zipped=True)
    mue = write_mue_file(folder / "cms", LIMITS, zipped=True)
    import_ncci(setting="practitioner", ptp=ptp, mue=mue, out=folder / "pack")
    return folder / "pack"


@pytest.fixture(scope="module")
def ncci(pack: Path) -> Engine:
    return load_engine(pack)


def _claim(*lines: tuple[Any, ...], day: str = "2024-09-03", payer: str = "medicare",
           claim_type: str = "professional") -> dict[str, Any]:
    out = []
    for number, (code, *rest) in enumerate(lines, start=1):
        modifiers = rest[0] if rest else []
        units = rest[1] if len(rest) > 1 else 1
        out.append({"line_id": str(number), "code": code, "modifiers": modifiers,
                    "units": units, "date_of_service": rest[2] if len(rest) > 2 else day})
    return {"claim_id": "C", "payer": payer, "claim_type": claim_type, "lines": out}


def _decisions(engine: Engine, claim: dict[str, Any]) -> list[str]:
    return [line.decision.value for line in engine.evaluate(claim).lines]


@pytest.mark.parametrize(("lines", "day", "expected"), [
    # G6002/G6001, indicator 0: G6001 not allowed, no modifier bypasses it
    ([("G6002",), ("G6001",)], "2024-09-03", ["allow", "deny"]),
    ([("G6002",), ("G6001", ["59"])], "2024-09-03", ["allow", "deny"]),
    ([("G6002",), ("G6001", ["XS"])], "2024-09-03", ["allow", "deny"]),
    # 77014/G6001, indicator 1: not allowed; XS (or another NCCI-associated modifier) bypasses
    ([("77014", ["26"]), ("G6001", ["26"])], "2024-09-03", ["allow", "deny"]),
    ([("77014", ["26"]), ("G6001", ["26", "XS"])], "2024-09-03", ["allow", "allow"]),
    ([("77014", ["26"]), ("G6001", ["26", "59"])], "2024-09-03", ["allow", "allow"]),
    ([("77014",), ("G6001", ["25"])], "2024-09-03", ["allow", "allow"]),
    ([("77014",), ("G6001", ["GC"])], "2024-09-03", ["allow", "deny"]),
    # 77014/77387: deletion date = effective date, indicator 9: never fires
    ([("77014",), ("77387",)], "2015-01-01", ["allow", "allow"]),
    ([("77014",), ("77387",)], "2024-09-03", ["allow", "allow"]),
    # deleted 2023-12-31: fires that day, not the next; not before its effective date
    ([("77371",), ("77427",)], "2023-12-31", ["allow", "deny"]),
    ([("77371",), ("77427",)], "2024-01-01", ["allow", "allow"]),
    ([("77371",), ("77427",)], "2009-12-31", ["allow", "allow"]),
    # a pair put back with another indicator: each row on its own dates
    ([("77402",), ("77014", ["59"])], "2019-12-31", ["allow", "deny"]),
    ([("77402",), ("77014", ["59"])], "2020-01-01", ["allow", "allow"]),
    # the pair has an order: column 1 is paid
    ([("G6001",), ("G6002",)], "2024-09-03", ["deny", "allow"]),
    # the column-1 code on another date of service is not the same day
    ([("G6002", [], 1, "2024-09-02"), ("G6001",)], "2024-09-03", ["allow", "allow"]),
])
def test_ptp_rows_behave_as_cms_says(ncci: Engine, lines: list[tuple[Any, ...]], day: str,
                                     expected: list[str]) -> None:
    assert _decisions(ncci, _claim(*lines, day=day)) == expected


def test_reason_names_the_pair_dates_indicator_and_rationale(ncci: Engine) -> None:
    line = ncci.evaluate(_claim(("77371",), ("77427",), day="2023-12-31")).lines[1]
    (reason,) = line.reasons
    assert reason.rule_id == "NCCI-PTP-PRACTITIONER-MEDICARE"
    assert (reason.group_code, reason.carc) == ("CO", "236")
    for part in ("77371/77427", "effective 2010-01-01", "deletion date 2023-12-31",
                 "modifier indicator 0", "Standards of practice"):
        assert part in reason.message
    assert "CMS Medicare NCCI procedure-to-procedure" in reason.citation
    assert reason.source == "ncci-practitioner-2024q3"


def test_scope_payer_and_claim_type(ncci: Engine) -> None:
    lines = [("G6002",), ("G6001",)]
    assert _decisions(ncci, _claim(*lines, payer="commercial")) == ["allow", "allow"]
    assert _decisions(ncci, _claim(*lines, payer="medicaid")) == ["allow", "allow"]
    # practitioner tables are for professional claims
    assert _decisions(ncci, _claim(*lines, claim_type="institutional")) == ["allow", "allow"]


@pytest.mark.parametrize(("lines", "expected"), [
    ([("G6001", [], 2)], ["allow"]),
    ([("G6001", [], 3)], ["deny"]),  # MAI 3: 3 units on the date > 2
    ([("G6001", ["26"], 2), ("G6001", ["26", "59"], 1)], ["deny", "deny"]),  # summed over lines
    ([("G6001", [], 1), ("G6001", [], 1)], ["allow", "allow"]),
    ([("G6001", [], 2, "2024-09-03"), ("G6001", [], 2, "2024-09-04")], ["allow", "allow"]),
    ([("77387", [], 2)], ["deny"]),  # MAI 2
    ([("77014", [], 2), ("77014", ["59"], 2)], ["allow", "allow"]),  # MAI 1: per line
    ([("77014", [], 3)], ["deny"]),
    ([("0001U", [], 40)], ["allow"]),  # no MUE row for the code in this table
])
def test_mue_adjudication_indicators(ncci: Engine, lines: list[tuple[Any, ...]],
                                     expected: list[str]) -> None:
    assert _decisions(ncci, _claim(*lines)) == expected


def test_mue_reason(ncci: Engine) -> None:
    (reason,) = ncci.evaluate(_claim(("G6001", [], 3))).lines[0].reasons
    assert (reason.rule_id, reason.carc, reason.rarcs) == (
        "NCCI-MUE-PRACTITIONER-MEDICARE", "151", ("N362",))
    assert "3 units billed; the NCCI MUE is 2 (MAI 3" in reason.message


def test_engine_pickles_and_evaluate_line_agrees(ncci: Engine) -> None:
    copy = pickle.loads(pickle.dumps(ncci))
    claim = _claim(("G6002",), ("G6001",))
    assert copy.evaluate(claim) == ncci.evaluate(claim)
    line = ncci.evaluate_line({"code": "G6001", "date_of_service": "2024-09-03"},
                              payer="medicare", same_day_codes=["G6002"])
    assert line.decision.value == "deny"


def test_content_hash_covers_the_tables(pack: Path, tmp_path: Path) -> None:
    copy = tmp_path / "pack"
    shutil.copytree(pack, copy)
    assert load_engine(copy).provenance.content_hash == load_engine(pack).provenance.content_hash
    table = copy / "tables" / "mue.bin"
    data = bytearray(table.read_bytes())
    data[-1] ^= 1  # one bit of the last limit's rationale number
    table.write_bytes(bytes(data))
    assert load_engine(copy).provenance.content_hash != load_engine(pack).provenance.content_hash


def _edit_pack(pack: Path, tmp_path: Path, change: dict[str, Any]) -> Path:
    copy = tmp_path / "pack"
    shutil.copytree(pack, copy)
    path = next((copy / "edits").iterdir())
    data = yaml.safe_load(path.read_text())
    data["edits"][0].update(change)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return copy


@pytest.mark.parametrize(("change", "message"), [
    ({"table": "tables/none.bin"}, "table: no table file tables/none.bin in the pack"),
    ({"table": "tables/mue.bin"}, "a mue table, not ptp"),
    ({"table": "../outside.bin"}, "a path inside the pack"),
    ({"message": "{code} {colum1}"}, "unknown placeholder {colum1}"),
    ({"indicator_meaning": {"2": "x"}}, "unknown indicators ['2']"),
])
def test_broken_table_edit_is_a_load_error(pack: Path, tmp_path: Path, change: dict[str, Any],
                                           message: str) -> None:
    copy = _edit_pack(pack, tmp_path, change)
    with pytest.raises(RulePackError) as caught:
        load_engine(copy)
    (problem,) = caught.value.problems
    assert problem.file.startswith("edits/ncci-") and problem.line is not None
    assert problem.key.startswith("edits.0")
    assert message in problem.message


def test_composed_with_igrt(pack: Path) -> None:
    """load_engine(["igrt", DIR]): every pack's edits fire, the line takes the most severe
    decision, the reasons come sorted by rule id, the provenance names both packs."""
    engine = load_engine(["igrt", str(pack)])
    assert [p.pack for p in engine.provenance.packs] == ["igrt", "ncci-practitioner"]
    claim = _claim(("77385",), ("G6002", ["TC"]), ("G6001", ["TC"]), day="2025-03-03")
    line = engine.evaluate(claim).lines[2]
    assert line.rule_ids == tuple(sorted(line.rule_ids))
    assert "NCCI-PTP-PRACTITIONER-MEDICARE" in line.rule_ids
    assert any(rule.startswith("IGRT-") for rule in line.rule_ids)
    assert line.decision.value == "deny"
    # where the tables do not apply (commercial), the composition decides as IGRT alone
    commercial = {**claim, "payer": "commercial"}
    assert [(x.decision, x.reasons) for x in engine.evaluate(commercial).lines] == [
        (x.decision, x.reasons) for x in load_engine().evaluate(commercial).lines]


def test_check_with_repeated_rules(pack: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(_claim(("G6002",), ("G6001", [], 3))) + "\n")
    assert main(["check", str(claims), "--format", "jsonl", "--rules", "igrt",
                 "--rules", str(pack)]) == 0
    lines = json.loads(capsys.readouterr().out)["lines"]
    assert [reason["rule_id"] for reason in lines[1]["reasons"]] == [
        "NCCI-MUE-PRACTITIONER-MEDICARE", "NCCI-PTP-PRACTITIONER-MEDICARE"]


def test_rules_show_code_lists_the_pairs_in_force(pack: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "--rules", str(pack), "--code", "77014", "--as-of",
                 "2025-06-02", "--payer", "medicare"]) == 0
    out = capsys.readouterr().out
    assert "watching 77014" in out
    assert "77402/77014  effective 2020-01-01  deletion *  indicator 1  More extensive" in out
    assert "77014/G6001  effective 2015-01-01  deletion *  indicator 1" in out
    assert "77402/77014  effective 2016-01-01" not in out  # deleted by then
    assert "77014/77387" not in out  # indicator 9: never in force
    assert "77014  MUE 2  adjudication indicator 1  Anatomic Consideration" in out


def test_explain_names_the_pair(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "G6001-26", "--date", "2024-09-03", "--payer", "medicare",
                 "--with", "77014", "--rules", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "G6001-26 on 2024-09-03, medicare, with 77014 the same day: DENY" in out
    assert "NCCI pair 77014/G6001 (effective 2015-01-01, deletion date none, modifier " \
           "indicator 1" in out


# -- the engine against a naive reading of the rows ----------------------------------------------

LINES = st.tuples(st.sampled_from(CODES), st.sampled_from([[], ["59"], ["XS"], ["26"], ["GC"]]),
                  st.integers(1, 4), st.sampled_from(["2015-01-01", "2019-12-31", "2020-01-01",
                                                      "2023-12-31", "2024-01-01"]))


def _expected(lines: list[tuple[str, list[str], int, str]]) -> list[set[str]]:
    bypass = {"59", "XS"}
    out = []
    for index, (code, modifiers, units, day) in enumerate(lines):
        date = D.fromisoformat(day)
        others = {c for i, (c, _, _, d) in enumerate(lines) if i != index and d == day}
        fired = set()
        for row in ROWS:
            if (row.column2 == code and row.column1 in others and row.in_force(date)
                    and (row.modifier_indicator == 0 or bypass.isdisjoint(modifiers))):
                fired.add("PTP")
        for limit in LIMITS:
            if limit.code == code:
                counted = units if limit.adjudication_indicator == 1 else sum(
                    u for c, _, u, d in lines if c == code and d == day)
                if counted > limit.units:
                    fired.add("MUE")
        out.append(fired)
    return out


@settings(max_examples=80)
@given(lines=st.lists(LINES, min_size=1, max_size=6))
def test_engine_agrees_with_the_rows(ncci: Engine,
                                     lines: list[tuple[str, list[str], int, str]]) -> None:
    result = ncci.evaluate(_claim(*lines))
    got = [{reason.rule_id.split("-")[1] for reason in line.reasons} for line in result.lines]
    assert got == _expected(lines)
    assert [line.decision.value for line in result.lines] == [
        "deny" if fired else "allow" for fired in got]


def test_threads_share_one_engine(ncci: Engine) -> None:
    """The tables' caches are filled from several threads at once: same answers as alone."""
    from concurrent.futures import ThreadPoolExecutor

    claims = [_claim((a,), (b, mods, units)) for a in CODES for b in CODES
              for mods, units in (([], 1), (["59"], 3))]
    alone = [ncci.evaluate(claim) for claim in claims]
    copy = load_engine(ncci.packs[0].root)  # fresh caches
    with ThreadPoolExecutor(4) as pool:
        shared = list(pool.map(copy.evaluate, claims * 3))
    assert [(x.lines, x.provenance.content_hash) for x in shared] == [
        (x.lines, x.provenance.content_hash) for x in alone * 3]


def test_rules_check_says_what_was_imported(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "imported: CMS medicare NCCI practitioner tables, 2024Q3, for medicare " \
           "(professional claims); 0 unreadable rows skipped" in out
    assert f"PTP: {len(ROWS)} rows in tables/ptp.bin, from ccipra-v302r0-f1.zip (" in out


def test_history_lines_of_earlier_claims_count_that_day(ncci: Engine) -> None:
    """With claim history, the patient's earlier claims at the same provider that day count as
    lines billed that day: the pair and the day's units span the claims."""
    from claimedit.history import MemoryHistory

    store = MemoryHistory()

    def claim(claim_id: str, *lines: tuple[Any, ...]) -> dict[str, Any]:
        return {**_claim(*lines), "claim_id": claim_id, "patient_id": "P1", "provider_id": "D1"}

    first = ncci.evaluate(claim("C1", ("G6002",), ("G6001", [], 2)), history=store)
    assert [line.decision.value for line in first.lines] == ["allow", "deny"]
    second = ncci.evaluate(claim("C2", ("G6001", ["59"], 1)), history=store)
    (line,) = second.lines
    assert sorted(reason.rule_id for reason in line.reasons) == [
        "NCCI-MUE-PRACTITIONER-MEDICARE",  # 2 + 1 units of G6001 that day, MUE 2 (MAI 3)
        "NCCI-PTP-PRACTITIONER-MEDICARE",  # G6002 billed that day on the earlier claim
    ]
