"""State exceptions: an overlay changes decisions for its state and dates only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import claimedit
from claimedit import Decision

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "states" / "XX.yaml"


def _claim(state: str | None, code: str, modifiers: list[str], day: str) -> dict[str, object]:
    return {"claim_id": "S1", "payer": "commercial", "state": state,
            "lines": [{"code": code, "modifiers": modifiers, "date_of_service": day}]}


@pytest.fixture(scope="module")
def with_xx() -> claimedit.Engine:
    return claimedit.load_engine(overlays=[EXAMPLE])


def test_overlay_switches_off_the_g6017_modifier_edit_for_its_state_only(
    with_xx: claimedit.Engine,
) -> None:
    in_xx = with_xx.evaluate(_claim("XX", "G6017", ["26"], "2025-05-14")).lines[0]
    assert in_xx.decision is Decision.ALLOW and in_xx.reasons == ()
    for other in (None, "OH", "CA"):
        line = with_xx.evaluate(_claim(other, "G6017", ["26"], "2025-05-14")).lines[0]
        assert line.decision is Decision.DENY
        assert line.rule_ids == ("IGRT-COMPONENT-MODIFIER",)


def test_overlay_applies_only_within_its_dates(with_xx: claimedit.Engine) -> None:
    """The example overlay covers 2025; a 2024 date of service keeps the pack's edit."""
    line = with_xx.evaluate(_claim("XX", "G6017", ["26"], "2024-11-04")).lines[0]
    assert line.rule_ids == ("IGRT-COMPONENT-MODIFIER",)


def test_overlay_edit_with_a_pack_id_replaces_the_pack_edit(with_xx: claimedit.Engine) -> None:
    line = with_xx.evaluate(_claim("XX", "77014", ["26", "TC"], "2025-05-14")).lines[0]
    assert line.decision is Decision.DENY
    [reason] = line.reasons
    assert reason.rule_id == "IGRT-MODIFIER-26-WITH-TC"
    assert reason.source == "state:XX" and reason.rarcs == ("N519", "N823")
    elsewhere = with_xx.evaluate(_claim("OH", "77014", ["26", "TC"], "2025-05-14")).lines[0]
    assert [r.source for r in elsewhere.reasons] == ["igrt-2025-08-04"]


def test_overlay_state_is_matched_case_insensitively(with_xx: claimedit.Engine) -> None:
    assert with_xx.evaluate(_claim("xx", "G6017", ["26"], "2025-05-14")).lines[0].decision \
        is Decision.ALLOW


def test_overlay_inside_the_pack_directory_is_the_same_as_one_given_outside(
    tmp_path: Path, with_xx: claimedit.Engine
) -> None:
    pack = tmp_path / "igrt"
    shutil.copytree(claimedit.pack.packaged_rules_path(), pack)
    (pack / "states").mkdir(exist_ok=True)
    shutil.copy(EXAMPLE, pack / "states" / "XX.yaml")
    inside = claimedit.load_engine(pack)
    assert inside.provenance.content_hash == with_xx.provenance.content_hash
    claim = _claim("XX", "G6017", ["26"], "2025-05-14")
    assert inside.evaluate(claim).lines == with_xx.evaluate(claim).lines


def test_provenance_names_pack_version_and_changes_with_any_rule_file(tmp_path: Path) -> None:
    base = claimedit.load_engine()
    assert base.provenance.pack == "igrt"
    assert base.provenance.version == base.pack.meta.version
    assert base.provenance.content_hash.startswith("sha256:")
    result = base.evaluate(_claim(None, "G6001", ["26"], "2025-05-14"))
    assert result.provenance == base.provenance

    with_overlay = claimedit.load_engine(overlays=[EXAMPLE])
    assert with_overlay.provenance.content_hash != base.provenance.content_hash

    pack = tmp_path / "igrt"
    shutil.copytree(claimedit.pack.packaged_rules_path(), pack)
    edits = pack / "edits" / "2025-policy.yaml"
    edits.write_text(edits.read_text(encoding="utf-8").replace(
        'carc: "97"', 'carc: "234"'), encoding="utf-8")
    edited = claimedit.load_engine(pack)
    assert edited.provenance.content_hash != base.provenance.content_hash


def test_overlay_that_disables_an_unknown_edit_is_a_load_error(tmp_path: Path) -> None:
    overlay = tmp_path / "ZZ.yaml"
    overlay.write_text(EXAMPLE.read_text(encoding="utf-8").replace("state: XX", "state: ZZ")
                       .replace("- IGRT-COMPONENT-MODIFIER", "- IGRT-NO-SUCH-EDIT"),
                       encoding="utf-8")
    with pytest.raises(claimedit.RulePackError) as caught:
        claimedit.load_engine(overlays=[overlay])
    [problem] = caught.value.problems
    assert problem.key == "disable.0" and "IGRT-NO-SUCH-EDIT" in problem.message
    assert problem.line == EXAMPLE.read_text(encoding="utf-8").splitlines().index(
        "  - IGRT-COMPONENT-MODIFIER") + 1


def test_overlay_file_name_must_match_its_state(tmp_path: Path) -> None:
    overlay = tmp_path / "YY.yaml"
    overlay.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(claimedit.RulePackError, match="does not match the file name"):
        claimedit.load_engine(overlays=[overlay])


def _overlay(tmp_path: Path, body: str, state: str = "ZZ") -> Path:
    path = tmp_path / f"{state}.yaml"
    path.write_text(f"""state: {state}
title: test overlay
citation: {{document: test, text: test}}
{body}""", encoding="utf-8")
    return path


_MEDICARE_77387 = """  - id: IGRT-MEDICARE-77387
    kind: line
    codes: ["77387"]
    payers: [medicare]
    decision: bundle
    message: state version
    group_code: CO
    carc: "97"
    citation: {document: test, text: test}
"""


def test_a_replacement_ends_when_the_edit_it_replaces_ends(tmp_path: Path) -> None:
    """An undated overlay replacing a 2025 edit does not resurrect it for 2026 dates."""
    engine = claimedit.load_engine(overlays=[_overlay(tmp_path, "replace:\n" + _MEDICARE_77387)])
    line = {"code": "77387", "modifiers": ["26"], "date_of_service": "2025-06-02"}
    claim_2025 = {"claim_id": "R", "payer": "medicare", "state": "ZZ", "lines": [line]}
    reasons = engine.evaluate(claim_2025).lines[0].reasons
    assert [(r.rule_id, r.source) for r in reasons if r.rule_id == "IGRT-MEDICARE-77387"] == [
        ("IGRT-MEDICARE-77387", "state:ZZ")]
    claim_2026 = {**claim_2025, "lines": [
        {"code": "77387", "modifiers": ["26"], "date_of_service": "2026-02-02"}]}
    assert engine.evaluate(claim_2026).lines[0].decision is Decision.ALLOW


def test_a_misspelt_replacement_id_is_a_load_error(tmp_path: Path) -> None:
    body = "replace:\n" + _MEDICARE_77387.replace("IGRT-MEDICARE-77387", "IGRT-MEDICARE-77378")
    with pytest.raises(claimedit.RulePackError) as caught:
        claimedit.load_engine(overlays=[_overlay(tmp_path, body)])
    [problem] = caught.value.problems
    assert problem.key == "replace.0.id" and problem.line == 5
    assert "no edit with this id in the pack" in problem.message


def test_adding_an_edit_with_a_pack_id_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(claimedit.RulePackError) as caught:
        claimedit.load_engine(overlays=[_overlay(tmp_path, "add:\n" + _MEDICARE_77387)])
    [problem] = caught.value.problems
    assert problem.key == "add.0.id" and "list it under replace" in problem.message


def test_an_added_edit_applies_to_its_state_only(tmp_path: Path) -> None:
    added = _MEDICARE_77387.replace("IGRT-MEDICARE-77387", "ZZ-77387-REVIEW").replace(
        "payers: [medicare]", "payers: [commercial]")
    engine = claimedit.load_engine(overlays=[_overlay(tmp_path, "add:\n" + added)])
    claim = {"claim_id": "A", "payer": "commercial", "state": "ZZ",
             "lines": [{"code": "77387", "modifiers": ["26"], "date_of_service": "2026-03-02"}]}
    line = engine.evaluate(claim).lines[0]
    assert line.rule_ids == ("ZZ-77387-REVIEW",) and line.decision is Decision.BUNDLE
    assert engine.evaluate({**claim, "state": "OH"}).lines[0].decision is Decision.ALLOW


def test_an_edit_both_disabled_and_replaced_is_a_load_error(tmp_path: Path) -> None:
    body = "disable: [IGRT-MEDICARE-77387]\nreplace:\n" + _MEDICARE_77387
    with pytest.raises(claimedit.RulePackError) as caught:
        claimedit.load_engine(overlays=[_overlay(tmp_path, body)])
    [problem] = caught.value.problems
    assert problem.key == "disable.0" and "both switched off and replaced" in problem.message
