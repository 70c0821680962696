"""``claimedit rules diff OLD NEW``: what changed between two packs, in an analyst's words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from claimedit.cli import main
from claimedit.pack import load_pack, packaged_rules_path
from claimedit.pack_diff import Change, diff_packs

ROOT = Path(__file__).resolve().parents[1]
POLICY = "edits/2025-policy.yaml"
NEW_EDIT = """
  - id: IGRT-NEW-EDIT
    kind: line
    codes: [G6017]
    payers: [medicaid]
    decision: deny
    message: "{code} is new here."
    group_code: CO
    carc: "4"
    rarcs: [N56]
    citation: {document: A test, text: A sentence.}
"""


@pytest.fixture
def new_pack(tmp_path: Path) -> Path:
    target = tmp_path / "new"
    shutil.copytree(packaged_rules_path(), target)
    return target


def _edit(pack: Path, name: str, old: str, new: str) -> None:
    path = pack / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _diff(new: Path) -> dict[tuple[str, str], Change]:
    changes = diff_packs(load_pack(packaged_rules_path()), load_pack(new))
    return {(change.section, change.subject): change for change in changes}


def test_a_pack_against_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "diff", "igrt", str(packaged_rules_path())]) == 0
    assert "summary: no change" in capsys.readouterr().out


def test_content_changed_under_the_same_version_is_a_warning(
        new_pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Results are stamped with the pack's version and hash: a changed pack that keeps its
    version would pass review silently, and two packs would answer to one version."""
    _edit(new_pack, POLICY, 'carc: "181"', 'carc: "16"')
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 0
    out = capsys.readouterr().out
    assert "warning: the content changed but the version did not (igrt 2026.2.0)" in out
    assert main(["rules", "diff", "igrt", str(new_pack), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["warnings"]) == 1
    _edit(new_pack, "pack.yaml", '"2026.2.0"', '"2026.3.0"')
    assert main(["rules", "diff", "igrt", str(new_pack), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
    assert main(["rules", "diff", "igrt", str(packaged_rules_path())]) == 0
    assert "warning" not in capsys.readouterr().out  # the same content: nothing to bump


def test_fields_of_a_changed_edit_in_words(new_pack: Path) -> None:
    _edit(new_pack, POLICY, "    components: [technical, global]\n    modifier_indicator: 0\n",
          "    components: [technical, global]\n    payers: [medicare, medicaid]\n"
          "    modifier_indicator: 0\n")
    _edit(new_pack, POLICY, 'column2: ["77014", G6001, G6002, "77387"]',
          'column2: [G6001, G6002, "77387", G6017]')
    _edit(new_pack, POLICY, 'carc: "97"', 'carc: "236"')
    [(key, change)] = _diff(new_pack).items()
    assert key == ("edits", "IGRT-TC-BUNDLED-INTO-IMRT (igrt-2025-08-04)")
    assert change.change == "changed"
    assert change.fields == ("carc", "payers", "column2.codes")
    assert change.details == ("carc: 97 -> 236", "payers: removed commercial",
                              "column2.codes: added G6017; removed 77014")


def test_edits_added_and_removed(new_pack: Path) -> None:
    path = new_pack / POLICY
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: IGRT-PC-CODED-WITH-GCODES")
    end = text.index("  - id:", start + 10)
    path.write_text(text[:start] + text[end:] + NEW_EDIT, encoding="utf-8")
    # the removed edit's case file would be a coverage gap for rules test; not for rules diff
    changes = _diff(new_pack)
    removed = changes[("edits", "IGRT-PC-CODED-WITH-GCODES (igrt-2025-08-04)")]
    added = changes[("edits", "IGRT-NEW-EDIT (igrt-2025-08-04)")]
    assert removed.change == "removed" and added.change == "added"
    assert removed.details[0].startswith("line: deny CO-4 N56 for medicare, medicaid, commercial")
    assert added.details == ("line: deny CO-4 N56 for medicaid, in force ..2025-12-31, "
                             "in edits/2025-policy.yaml",)


def test_dates_moved_reach_the_edits_of_the_revision(new_pack: Path) -> None:
    """A revision's end moved: the revision says so, and so does each of its edits in force
    (the analyst's question is when each edit applies, wherever the date is written)."""
    _edit(new_pack, POLICY, "effective: {end: 2025-12-31}", "effective: {end: 2025-11-30}")
    changes = _diff(new_pack)
    revision = changes[("revisions", "igrt-2025-08-04")]
    assert revision.details == ("in force ..2025-12-31 -> ..2025-11-30 (now ends 2025-11-30)",)
    edit = changes[("edits", "IGRT-MEDICARE-77387 (igrt-2025-08-04)")]
    assert edit.details == ("in force ..2025-12-31 -> ..2025-11-30 (now ends 2025-11-30)",)


def test_codes_added_and_moved_name_the_edits_they_reach(new_pack: Path) -> None:
    _edit(new_pack, "codes.yaml", "effective: {start: 2015-01-01, end: 2025-12-31}\n"
          "    source: HCPCS 2015 (high); MPFS 2024A PC/TC indicator 1; deleted 2026-01-01",
          "effective: {start: 2015-01-01, end: 2026-03-31}\n"
          "    source: HCPCS 2015 (high); MPFS 2024A PC/TC indicator 1; deleted 2026-01-01")
    _edit(new_pack, "codes.yaml", "codes:\n", 'codes:\n  - {code: "77999", label: A new code, '
          "category: igrt, modifier_26: true, modifier_tc: true, effective: {start: 2027-01-01}, "
          "source: test}\n")
    changes = _diff(new_pack)
    moved = changes[("codes", "G6001")]
    assert moved.fields == ("effective",)
    assert moved.details[0] == ("in force 2015-01-01..2025-12-31 -> 2015-01-01..2026-03-31 "
                                "(now ends 2026-03-31)")
    assert "IGRT-TC-BUNDLED-INTO-IMRT" in moved.details[1]
    added = changes[("codes", "77999")]
    assert added.change == "added"
    assert added.details[0] == "A new code (igrt, 26 yes, TC yes), in force 2027-01-01.."
    assert "named by the edits IGRT-CODE-NOT-EFFECTIVE" in added.details[1]


def test_an_edit_moved_to_a_renamed_revision_is_one_change(new_pack: Path) -> None:
    _edit(new_pack, POLICY, "id: igrt-2025-08-04", "id: igrt-2025-09-01")
    changes = _diff(new_pack)
    assert changes[("revisions", "igrt-2025-08-04")].change == "removed"
    assert changes[("revisions", "igrt-2025-09-01")].change == "added"
    edit = changes[("edits", "IGRT-MEDICARE-77387 (igrt-2025-09-01)")]
    assert edit.details == ("moved from revision igrt-2025-08-04 to igrt-2025-09-01",)
    assert not any(c.change in ("added", "removed") for c in changes.values()
                   if c.section == "edits")


def test_overlays_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    overlay = ROOT / "examples" / "states" / "XX.yaml"
    assert main(["rules", "diff", "igrt", "igrt", "--new-overlay", str(overlay), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["old"]["content_hash"] != data["new"]["content_hash"]
    [change] = data["changes"]
    assert (change["section"], change["change"]) == ("state XX", "added")
    assert "switches off IGRT-COMPONENT-MODIFIER" in change["details"][0]


def test_table_output_and_a_broken_pack(
    new_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(new_pack, "pack.yaml", 'version: "2026.2.0"', 'version: "2026.3.0"')
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 0
    out = capsys.readouterr().out
    assert "pack:\n  ~ igrt: version: 2026.2.0 -> 2026.3.0\n" in out
    assert "summary: pack 1 changed" in out
    (new_pack / "codes.yaml").write_text("codes: [\n", encoding="utf-8")
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 2
    assert "codes.yaml" in capsys.readouterr().err


def test_case_expectations_that_moved_with_the_change(
    new_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reviewer sees the policy change and the tests it moved, side by side."""
    _edit(new_pack, "tests/acceptance.yaml",
          '      - {code: "77387", modifiers: ["26"], expect: {decision: deny}}',
          '      - {code: "77387", modifiers: ["26"], expect: {decision: allow}}')
    path = new_pack / "tests" / "allow.yaml"
    path.write_text(path.read_text(encoding="utf-8") + """
  - name: a_new_case
    payer: medicare
    date: 2025-06-02
    lines:
      - {code: "77412", expect: {decision: allow, rule_ids: []}}
""", encoding="utf-8")
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 0
    out = capsys.readouterr().out
    assert ("  ~ tests/acceptance.yaml medicare_77387_26: line 2 (77387-26): "
            "expected deny -> allow\n") in out
    assert ("  + tests/allow.yaml a_new_case: medicare: 77412 2025-06-02; line 1 expected "
            "allow, rule ids []\n") in out
    assert "summary: tests 1 changed, 1 added" in out
    (new_pack / "tests" / "allow.yaml").write_text("cases: [\n", encoding="utf-8")
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 0
    assert "cannot compare the case files: 1 problems in" in capsys.readouterr().out


def test_a_changed_state_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = ROOT / "examples" / "states" / "XX.yaml"
    changed = tmp_path / "XX.yaml"
    changed.write_text(overlay.read_text(encoding="utf-8")
                       .replace("effective: {start: 2025-01-01, end: 2025-12-31}",
                                "effective: {start: 2025-01-01, end: 2025-06-30}")
                       .replace("rarcs: [N519, N823]", "rarcs: [N519]"), encoding="utf-8")
    assert main(["rules", "diff", "igrt", "igrt", "--old-overlay", str(overlay),
                 "--new-overlay", str(changed), "--json"]) == 0
    changes = {(c["section"], c["subject"]): c for c in json.loads(capsys.readouterr().out)[
        "changes"]}
    header = changes[("state XX", str(changed))]
    assert header["details"] == [
        "in force 2025-01-01..2025-12-31 -> 2025-01-01..2025-06-30 (now ends 2025-06-30)"]
    edit = changes[("state XX", "IGRT-MODIFIER-26-WITH-TC (state:XX)")]
    assert edit["fields"] == ["rarcs", "effective"]
    assert edit["details"][0] == "rarcs: removed N823"


def test_table_files_pair_by_pair(tmp_path: Path) -> None:
    """A quarterly NCCI update in words: the pairs added, deleted (a deletion date set) or
    removed, and the MUE limits that moved; other table files by size."""
    import datetime as dt

    from claimedit.ncci.table import MueLimit, PairRow, write_mue_table, write_ptp_table
    from claimedit.pack_diff import diff_tables

    def pair(c1: str, c2: str, deletion: dt.date | None = None) -> PairRow:
        return PairRow(c1, c2, dt.date(2024, 1, 1), deletion, False, 0, "Misuse of column two")

    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        (root / "tables").mkdir(parents=True)
    write_ptp_table(old / "tables" / "ptp.bin", [pair("77385", "G6001"), pair("77385", "G6002"),
                                                 pair("77386", "77387")], {})
    write_ptp_table(new / "tables" / "ptp.bin", [
        pair("77385", "G6001"), pair("77385", "G6002", deletion=dt.date(2025, 3, 31)),
        pair("77412", "77387")], {})
    write_mue_table(old / "tables" / "mue.bin", [MueLimit("G6001", 2, 3, "Clinical")], {})
    write_mue_table(new / "tables" / "mue.bin", [MueLimit("G6001", 1, 3, "Clinical"),
                                                 MueLimit("77387", 2, 2, "Policy")], {})
    (old / "tables" / "notes.txt").write_text("a", encoding="utf-8")
    (new / "tables" / "extra.txt").write_text("b", encoding="utf-8")

    changes = {change.subject: change for change in diff_tables(old, new)}
    ptp = changes["tables/ptp.bin"].details
    assert ptp[0] == "pairs: 1 added, 1 removed, 1 changed (rows 3 -> 3)"
    assert "+ 77412/77387 in force 2024-01-01.., indicator 0" in ptp
    assert "- 77386/77387 in force 2024-01-01.., indicator 0" in ptp
    assert ("~ 77385/G6002 in force 2024-01-01.., indicator 0 -> 77385/G6002 in force "
            "2024-01-01..2025-03-31, indicator 0") in ptp
    mue = changes["tables/mue.bin"].details
    assert mue[0] == "codes: 2 limits added, removed or changed (codes 1 -> 2)"
    assert "~ G6001: 2 -> 1 units, adjudication indicator 3 -> 3" in mue
    assert "+ 77387: 2 units (adjudication indicator 2)" in mue
    assert changes["tables/notes.txt"].change == "removed"
    assert changes["tables/extra.txt"].details == ("1 bytes",)
