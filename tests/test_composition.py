"""Packs that compose: ``load_engine(["igrt", "ncci-radonc"])``, names or directories, provenance
of every pack, rule ids unique across a composition, the CLI's repeatable ``--rules`` and
``rules list``; and the NCCI pack's acceptance examples under the composition."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import claimedit
from claimedit import Decision, PackProvenance, Provenance, RulePackError
from claimedit.cli import main
from claimedit.pack import packaged_packs, packaged_rules_path
from claimedit.policy_tests import check_case, load_cases


@pytest.fixture(scope="module")
def composed() -> claimedit.Engine:
    return claimedit.load_engine(["igrt", "ncci-radonc"])


def test_load_engine_takes_one_pack_or_a_list_by_name_or_directory() -> None:
    default = claimedit.load_engine()
    assert default.provenance.pack == "igrt" and len(default.packs) == 1
    for spec in ("igrt", packaged_rules_path(), str(packaged_rules_path()), ["igrt"]):
        assert claimedit.load_engine(spec).provenance == default.provenance, spec
    both = claimedit.load_engine([packaged_rules_path(), "ncci-radonc"])
    assert [pack.meta.id for pack in both.packs] == ["igrt", "ncci-radonc"]
    assert both.pack is both.packs[0]


def test_the_packaged_packs_are_listed() -> None:
    assert set(packaged_packs()) == {"igrt", "ncci-radonc"}


def test_provenance_names_every_pack(composed: claimedit.Engine) -> None:
    igrt, ncci = composed.packs
    p = composed.provenance
    assert p.packs == (PackProvenance("igrt", igrt.meta.version, igrt.content_hash),
                       PackProvenance("ncci-radonc", ncci.meta.version, ncci.content_hash))
    assert p.pack == "igrt+ncci-radonc"
    assert p.version == f"{igrt.meta.version}+{ncci.meta.version}"
    assert p.content_hash.startswith("sha256:")
    assert p.content_hash not in (igrt.content_hash, ncci.content_hash)
    assert [item["pack"] for item in p.to_dict()["packs"]] == ["igrt", "ncci-radonc"]
    # The order of the packs is part of what was loaded.
    assert claimedit.load_engine(["ncci-radonc", "igrt"]).provenance.content_hash \
        != p.content_hash


def test_one_pack_provenance_is_what_it_was(engine: claimedit.Engine) -> None:
    """Backward compatible: pack, version and content hash stay the pack's own; results stored
    before ``packs`` existed read back with the one pack they name."""
    p = engine.provenance
    assert (p.pack, p.version, p.content_hash) == (
        "igrt", engine.pack.meta.version, engine.pack.content_hash)
    old = {"pack": "igrt", "version": "2026.1.0", "content_hash": "sha256:ab"}
    assert Provenance.from_dict(old) == Provenance("igrt", "2026.1.0", "sha256:ab", "unknown")
    assert Provenance.from_dict(old).packs == (PackProvenance("igrt", "2026.1.0", "sha256:ab"),)
    # One pack: the JSON is what it was (no "packs"); a composition lists them.
    assert set(p.to_dict()) == {"pack", "version", "content_hash", "library"}


def test_composed_results_round_trip_through_json(composed: claimedit.Engine) -> None:
    result = composed.evaluate({"claim_id": "J", "payer": "medicare", "lines": [
        {"code": "G6002", "date_of_service": "2024-09-03"},
        {"code": "G6001", "units": 3, "date_of_service": "2024-09-03", "charge": "120.00"}]})
    assert result.lines[1].rule_ids == ("NCCI-MUE-PRACTITIONER-MAI3-2", "NCCI-PTP-PRACTITIONER")
    assert result.lines[1].decision is Decision.DENY
    import json
    assert claimedit.ClaimResult.from_dict(json.loads(result.to_json())) == result


def test_a_composed_engine_pickles(composed: claimedit.Engine) -> None:
    claim = {"claim_id": "P", "payer": "medicare", "claim_type": "institutional", "lines": [
        {"code": "77385", "date_of_service": "2024-09-03"},
        {"code": "77402", "date_of_service": "2024-09-03"}]}
    copy = pickle.loads(pickle.dumps(composed))
    assert copy.provenance == composed.provenance
    assert copy.evaluate(claim) == composed.evaluate(claim)


def _clashing_pack(tmp_path: Path) -> Path:
    root = tmp_path / "ncci-copy"
    shutil.copytree(packaged_packs()["ncci-radonc"], root)
    edits = root / "edits" / "2024q3.yaml"
    text = edits.read_text("utf-8").replace("id: NCCI-PTP-HOSPITAL", "id: IGRT-COMPONENT-MODIFIER")
    edits.write_text(text, "utf-8")
    pack = root / "pack.yaml"
    pack.write_text(pack.read_text("utf-8").replace("id: ncci-radonc", "id: ncci-copy"), "utf-8")
    return root


def test_a_rule_id_in_two_packs_is_a_load_error_naming_both_files(tmp_path: Path) -> None:
    root = _clashing_pack(tmp_path)
    with pytest.raises(RulePackError) as caught:
        claimedit.load_engine(["igrt", root])
    [problem] = caught.value.problems
    assert problem.file == f"{root}/edits/2024q3.yaml" and problem.key.endswith(".id")
    assert "IGRT-COMPONENT-MODIFIER" in problem.message
    assert f"{packaged_rules_path()}/edits/2025-policy.yaml:" in problem.message
    # Each pack alone is fine.
    claimedit.load_engine(root)


def test_the_same_pack_twice_is_a_load_error() -> None:
    with pytest.raises(RulePackError, match="given twice"):
        claimedit.load_engine(["igrt", "igrt"])


def test_an_unknown_pack_name_lists_the_packaged_ones() -> None:
    with pytest.raises(RulePackError, match="igrt, ncci-radonc"):
        claimedit.load_engine(["igrt", "ncci-radiology"])


def test_problems_of_a_broken_second_pack_name_its_directory(tmp_path: Path) -> None:
    root = _clashing_pack(tmp_path)
    (root / "codes.yaml").write_text("codes: []\n", "utf-8")
    with pytest.raises(RulePackError) as caught:
        claimedit.load_engine(["igrt", root])
    assert all(problem.file.startswith(str(root)) for problem in caught.value.problems)


def test_the_ncci_acceptance_examples_hold_under_the_composition(
    composed: claimedit.Engine,
) -> None:
    """tests/acceptance.yaml of the NCCI pack (the issue's examples) runs alone in the pack's
    own tests; here the same cases go through IGRT + NCCI."""
    cases = [case for case in load_cases(packaged_packs()["ncci-radonc"])
             if case.stem == "acceptance"]
    assert len(cases) >= 10
    failures = [failure.describe() for case in cases for failure in check_case(composed, case)]
    assert not failures, "\n".join(failures)


def test_every_pack_fires_and_the_line_takes_the_most_severe(
    composed: claimedit.Engine,
) -> None:
    """A Medicare professional claim of 2024: IGRT's component edit (deny) and NCCI's pair
    (bundle) on one line; the line is denied and carries both reasons, sorted by rule id."""
    line = composed.evaluate({"claim_id": "S", "payer": "medicare", "lines": [
        {"code": "77014", "date_of_service": "2024-09-03"},
        {"code": "G6017", "modifiers": ["26"], "date_of_service": "2024-09-03"}]}).lines[1]
    assert line.rule_ids == ("IGRT-COMPONENT-MODIFIER", "NCCI-PTP-PRACTITIONER")
    assert line.decision is Decision.DENY


def test_unit_limits_keep_the_memo_bounded(composed: claimedit.Engine) -> None:
    """Units are in the memo key only up to just past the largest limit tested."""
    fresh = claimedit.Engine(composed.packs)
    for units in range(1, 400):
        fresh.evaluate({"claim_id": "U", "payer": "medicare", "lines": [
            {"code": "G6001", "modifiers": ["26"], "units": units,
             "date_of_service": "2024-09-03"}]})
    memos = {id(rules): len(rules.memo) for scoped in fresh._tables.values()
             for eras in scoped.values() for index in eras for rules in index.values()}
    assert sum(memos.values()) <= 3  # 1, 2, and "more than 2"


def test_cli_rules_repeated_and_rules_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "G6001-26", "--date", "2024-09-03", "--payer", "medicare",
                 "--with", "77014", "--rules", "igrt", "--rules", "ncci-radonc"]) == 0
    out, err = capsys.readouterr()
    assert "BUNDLE" in out and "NCCI-PTP-PRACTITIONER" in out
    assert "rules: igrt " in err and "rules: ncci-radonc 2024.3.0" in err
    assert main(["explain", "77402", "--date", "2024-09-03", "--payer", "medicare",
                 "--with", "77385", "--rules", "ncci-radonc", "--claim-type",
                 "institutional"]) == 0
    assert "NCCI-PTP-HOSPITAL" in capsys.readouterr().out
    assert main(["rules", "list"]) == 0
    listing = capsys.readouterr().out
    assert "igrt" in listing and "(default)" in listing and "ncci-radonc" in listing


def test_cli_check_with_two_packs_as_a_subprocess(tmp_path: Path) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        '{"claim_id": "N1", "payer": "medicare", "lines": ['
        '{"code": "G6002", "date_of_service": "2024-09-03"},'
        '{"code": "G6001", "date_of_service": "2024-09-03"}]}\n', "utf-8")
    src = Path(claimedit.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "claimedit", "check", str(claims), "--format", "jsonl",
         "--rules", "igrt", "--rules", "ncci-radonc"],
        capture_output=True, text=True, env={"PYTHONPATH": str(src)}, check=False)
    assert done.returncode == 0, done.stderr
    assert '"rule_id":"NCCI-PTP-PRACTITIONER"' in done.stdout
    assert '"pack":"igrt+ncci-radonc"' in done.stdout
