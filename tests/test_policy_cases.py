"""The policy as a table: every case of every packaged pack's ``tests/*.yaml`` run through the
engine.

The case files live in the pack (``rules/<pack>/tests/``), one copy: ``claimedit rules test``
runs them for analysts, and this module runs the same files for the project, with assertions of
its own (not the runner's), so a bug in the runner cannot hide a policy regression here.
One parametrized test, ids ``<pack>/<rule>_<case>`` (sqlfluff style). The meta tests keep the
tables honest: every edit of a pack has a case file, every case file is about an edit of the
pack, and every rule file shows its edit both firing and not firing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import claimedit
from claimedit import Decision
from claimedit.policy_tests import PolicyCase, case_files, load_cases, packaged_packs

PACKS = {name: path for name, path in packaged_packs().items() if case_files(path)}
CASES = [(name, case) for name, path in PACKS.items() for case in load_cases(path)]
_NOT_RULE_FILES = {"acceptance", "allow"}


@cache
def _engine(pack: str) -> claimedit.Engine:
    return claimedit.load_engine(PACKS[pack])


def test_the_packaged_igrt_pack_ships_its_cases() -> None:
    """The cases moved into the pack: the tests/ folder is there, and nothing was left behind
    in the project's own tests folder."""
    assert "igrt" in PACKS
    assert not (Path(__file__).parent / "cases").exists()


@pytest.mark.parametrize(("pack", "case"), CASES, ids=[f"{p}/{c.id}" for p, c in CASES])
def test_policy_case(pack: str, case: PolicyCase) -> None:
    """Each line under test gets the expected decision; the file's edit fires exactly when the
    case says so, with its remittance codes (group code, CARC, RARCs); when the case lists the
    rule ids or the source revision, those match too; and the result carries provenance."""
    engine = _engine(pack)
    result = engine.evaluate(case.claim)

    assert len(result.lines) == len(case.claim.lines)
    assert result.provenance.pack == engine.pack.meta.id == pack
    assert result.provenance.version == engine.pack.meta.version
    assert result.provenance.content_hash.startswith("sha256:")
    for expected in case.expectations:
        line = result.lines[expected.position]
        billed = "-".join((line.code, *line.modifiers))
        where = f"line {expected.position + 1} ({billed} on {line.date_of_service})"
        assert line.decision is expected.decision, (
            f"{where}: {line.decision.value}, expected {expected.decision}; fired {line.rule_ids}"
        )
        if expected.rule_ids is not None:
            assert sorted(line.rule_ids) == sorted(expected.rule_ids), where
        if expected.source is not None:
            assert line.reasons, f"{where}: no reason to carry source {expected.source}"
            assert {reason.source for reason in line.reasons} == {expected.source}, where
        if case.rule is not None:
            fired = [reason for reason in line.reasons if reason.rule_id == case.rule]
            assert bool(fired) is expected.fires, (
                f"{where}: {case.rule} {'did not fire' if expected.fires else 'fired'}; "
                f"fired {line.rule_ids}"
            )
            # The line's decision is the most severe of its reasons, computed here on its own.
            worst = max((reason.decision for reason in line.reasons),
                        key=lambda decision: decision.severity, default=Decision.ALLOW)
            assert line.decision is worst, where
            for reason in fired:
                if case.remit is not None:
                    group_code, carc, rarcs = case.remit
                    assert reason.group_code == group_code, where
                    assert reason.carc == carc, where
                    assert reason.rarcs == rarcs, where
                assert "{code}" not in reason.message, "the message names the billed code"
                assert reason.citation, "every reason cites the policy sentence it encodes"


def _pack_edit_ids(engine: claimedit.Engine) -> set[str]:
    ids = {item.edit.id for item in engine.pack.edits}
    for overlay in engine.pack.overlays:
        ids |= {item.edit.id for item in overlay.edits}
    return ids


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_every_edit_of_the_pack_has_a_case_file(pack: str) -> None:
    """A new edit without a tests/<RULE-ID>.yaml fails here, so no edit ships untested."""
    have = {path.stem for path in case_files(PACKS[pack])}
    missing = sorted(_pack_edit_ids(_engine(pack)) - have)
    assert not missing, f"add {', '.join(f'rules/{pack}/tests/{i}.yaml' for i in missing)}"


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_every_rule_case_file_is_about_an_edit_of_the_pack(pack: str) -> None:
    """A case file left behind by a renamed or removed edit would test nothing: it fails here."""
    stems = {path.stem for path in case_files(PACKS[pack])}
    stale = stems - _pack_edit_ids(_engine(pack)) - _NOT_RULE_FILES
    assert not stale, f"case files for edits the pack no longer has: {sorted(stale)}"


def test_every_rule_file_shows_its_edit_firing_and_not_firing() -> None:
    """A rule's table needs both a FAIL and a PASS case, or it cannot catch an edit that fires
    on everything (or on nothing)."""
    by_rule: dict[tuple[str, str], set[bool]] = {}
    for pack, case in CASES:
        if case.rule is None:
            continue
        for expected in case.expectations:
            assert expected.fires is not None
            by_rule.setdefault((pack, case.rule), set()).add(expected.fires)
    lacking = {rule: seen for rule, seen in by_rule.items() if seen != {True, False}}
    assert not lacking, f"rule files lacking a firing or a non-firing case: {lacking}"


def test_acceptance_and_allow_tables_exist() -> None:
    """The IGRT acceptance examples and the allow sentences are part of the contract."""
    tests = PACKS["igrt"] / "tests"
    assert (tests / "acceptance.yaml").is_file()
    assert (tests / "allow.yaml").is_file()
    files = {case.stem for pack, case in CASES if pack == "igrt"}
    assert {"acceptance", "allow"} <= files


def test_allow_table_only_expects_allow() -> None:
    """allow.yaml is the policy's "may be reported" sentences: a deny or bundle there is a typo."""
    for _, case in CASES:
        if case.stem == "allow":
            assert all(e.decision is Decision.ALLOW and e.rule_ids == ()
                       for e in case.expectations), case.id
