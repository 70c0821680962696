"""The policy as a table: every case of ``tests/cases/*.yaml`` run through the engine.

One parametrized test, ids ``<rule>_<case>`` (sqlfluff style). The meta tests keep the table
honest: every edit of the pack has a case file, every case file is about an edit the pack has,
and every rule file shows its edit both firing and not firing.
"""

from __future__ import annotations

import pytest
from _cases import CASES_DIR, PolicyCase, case_files, load_cases

import claimedit
from claimedit import Decision

CASES = load_cases()
_NOT_RULE_FILES = {"acceptance", "allow"}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_case(engine: claimedit.Engine, case: PolicyCase) -> None:
    """Each line under test gets the expected decision; the file's edit fires exactly when the
    case says so, with its remittance codes (group code, CARC, RARCs); when the case lists the
    rule ids or the source revision, those match too; and the result carries provenance."""
    result = engine.evaluate(case.claim)

    assert len(result.lines) == len(case.claim["lines"])
    assert result.provenance.pack == "igrt"
    assert result.provenance.version == engine.pack.meta.version
    assert result.provenance.content_hash.startswith("sha256:")
    for expected in case.expectations:
        line = result.lines[expected.position]
        billed = "-".join((line.code, *line.modifiers))
        where = f"line {expected.position + 1} ({billed} on {line.date_of_service})"
        assert line.decision is Decision(expected.decision), (
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
                    assert reason.group_code == case.remit["group_code"], where
                    assert reason.carc == str(case.remit["carc"]), where
                    assert reason.rarcs == tuple(case.remit["rarcs"]), where
                assert "{code}" not in reason.message, "the message names the billed code"
                assert reason.citation, "every reason cites the policy sentence it encodes"


def _pack_edit_ids(engine: claimedit.Engine) -> set[str]:
    ids = {item.edit.id for item in engine.pack.edits}
    for overlay in engine.pack.overlays:
        ids |= {item.edit.id for item in overlay.edits}
    return ids


def test_every_edit_of_the_pack_has_a_case_file(engine: claimedit.Engine) -> None:
    """A new edit without a tests/cases/<RULE-ID>.yaml fails here, so no edit ships untested."""
    have = {path.stem for path in case_files()}
    missing = sorted(_pack_edit_ids(engine) - have)
    assert not missing, f"add {', '.join(f'tests/cases/{i}.yaml' for i in missing)}"


def test_every_rule_case_file_is_about_an_edit_of_the_pack(engine: claimedit.Engine) -> None:
    """A case file left behind by a renamed or removed edit would test nothing: it fails here."""
    stale = {path.stem for path in case_files()} - _pack_edit_ids(engine) - _NOT_RULE_FILES
    assert not stale, f"case files for edits the pack no longer has: {sorted(stale)}"


def test_every_rule_file_shows_its_edit_firing_and_not_firing() -> None:
    """A rule's table needs both a FAIL and a PASS case, or it cannot catch an edit that fires
    on everything (or on nothing)."""
    by_rule: dict[str, set[bool]] = {}
    for case in CASES:
        if case.rule is None:
            continue
        for expected in case.expectations:
            assert expected.fires is not None
            by_rule.setdefault(case.rule, set()).add(expected.fires)
    lacking = {rule: seen for rule, seen in by_rule.items() if seen != {True, False}}
    assert not lacking, f"rule files lacking a firing or a non-firing case: {lacking}"


def test_acceptance_and_allow_tables_exist() -> None:
    """The acceptance examples and the allow sentences are part of the contract."""
    assert (CASES_DIR / "acceptance.yaml").is_file()
    assert (CASES_DIR / "allow.yaml").is_file()
    files = {case.file for case in CASES}
    assert {"acceptance", "allow"} <= files


def test_allow_table_only_expects_allow() -> None:
    """allow.yaml is the policy's "may be reported" sentences: a deny or bundle there is a typo."""
    for case in CASES:
        if case.file == "allow":
            assert all(e.decision == "allow" and e.rule_ids == () for e in case.expectations), (
                case.id
            )
