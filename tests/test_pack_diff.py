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
    _edit(new_pack, "pack.yaml", 'version: "2026.1.0"', 'version: "2026.2.0"')
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 0
    out = capsys.readouterr().out
    assert "pack:\n  ~ igrt: version: 2026.1.0 -> 2026.2.0\n" in out
    assert "summary: pack 1 changed" in out
    (new_pack / "codes.yaml").write_text("codes: [\n", encoding="utf-8")
    assert main(["rules", "diff", "igrt", str(new_pack)]) == 2
    assert "codes.yaml" in capsys.readouterr().err
