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
