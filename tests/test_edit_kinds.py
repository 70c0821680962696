"""The edit kind as the unit of change: one module per kind, its declarations, and what the
engine derives from them (what it gathers for a line, the memo key, the loader's code-set
checks); claim types reach the engine; results echo the charge and say whether the line was
reviewed."""

from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal
from pathlib import Path

import pytest

import claimedit
from claimedit import Decision, Problem, RulePackError
from claimedit.edits import KINDS, Edit, Fact
from claimedit.edits._check import CodeTable, Facts
from claimedit.edits._schema import CodeSet
from claimedit.pack import load_pack


def test_the_edit_union_lists_exactly_the_registered_kinds() -> None:
    """``Edit`` is written out for mypy; it must not drift from the table."""
    union = typing.get_args(typing.get_args(Edit)[0])
    assert {model.__name__ for model in union} == {k.model.__name__ for k in KINDS.values()}
    for name, kind in KINDS.items():
        assert kind.name == name
        assert typing.get_args(kind.model.model_fields["kind"].annotation) == (name,)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_kind_declares_its_code_sets_and_reads_only_facts(name: str) -> None:
    kind = KINDS[name]
    fields = kind.model.model_fields
    for key in kind.code_sets:
        assert fields[key].annotation is CodeSet, f"{name}.{key} is not a code set"
    undeclared = {key for key, field in fields.items() if field.annotation is CodeSet}
    assert undeclared == set(kind.code_sets), f"{name}: code sets not declared"
    assert kind.reads <= set(Fact)
    assert Fact.CLAIM_TYPE not in kind.reads, "claim type is a compile-time scope"


def test_every_compiled_check_reads_within_its_kind_declaration(
    engine: claimedit.Engine,
) -> None:
    """A check may narrow what its kind reads (a unit limit of indicator 1 reads units, not
    the day's units), never widen it: the memo key is derived from these declarations."""
    for day in (dt.date(2025, 3, 3), dt.date(2026, 3, 3)):
        table = CodeTable(engine.pack.codes, day)
        for item in engine.edits_in_force(day):
            kind = KINDS[item.edit.kind]
            for _, check in kind.compile(item, table):
                assert check.reads <= kind.reads, item.edit.id
                if Fact.MODIFIERS not in check.reads:
                    assert not check.modifiers
                if Fact.DAY_CODES not in check.reads:
                    assert not check.day_codes


def test_a_predicate_is_a_pure_function_of_the_facts() -> None:
    """procedure_to_procedure's predicate, called directly with facts, as the engine does."""
    from claimedit.edits.procedure_to_procedure import fires

    def facts(modifiers: tuple[str, ...], day_codes: set[str]) -> Facts:
        from claimedit.edits import components_billed
        return Facts(modifiers, components_billed(modifiers), 1, frozenset(day_codes), 1)

    rule = {"components": frozenset({"technical", "global"}), "column1": frozenset({"77385"}),
            "bypass": frozenset({"59"})}
    assert fires(facts(("TC",), {"77385"}), **rule)
    assert not fires(facts(("26",), {"77385"}), **rule)  # professional: not this edit's
    assert not fires(facts(("TC",), set()), **rule)  # no column-1 code that day
    assert not fires(facts(("TC", "59"), {"77385"}), **rule)  # bypassed


_INSTITUTIONAL_ONLY = """\
# yaml-language-server: $schema=../../schema/edits.schema.json
revision:
  id: test-claim-type
  title: An edit for hospital claims only (test)
  effective: {start: 2025-01-01, end: 2025-12-31}
  citation: {document: test, text: a fact for the claim type test}
edits:
  - id: TEST-HOSPITAL-77412
    kind: line
    codes: ["77412"]
    claim_types: [institutional]
    decision: deny
    message: "{code} on a hospital claim (test)"
    group_code: CO
    carc: "96"
    rarcs: [N56]
    citation: {document: test, text: a fact for the claim type test}
"""


def test_an_edit_scoped_to_a_claim_type_fires_only_on_that_type(pack_copy: Path) -> None:
    (pack_copy / "edits" / "2025-test.yaml").write_text(_INSTITUTIONAL_ONLY, "utf-8")
    engine = claimedit.load_engine(pack_copy)

    def rule_ids(claim_type: str | None) -> tuple[str, ...]:
        claim = {"claim_id": "T", "payer": "commercial", "lines": [
            {"code": "77412", "date_of_service": "2025-06-02"}]}
        if claim_type is not None:
            claim["claim_type"] = claim_type
        return engine.evaluate(claim).lines[0].rule_ids

    assert rule_ids("institutional") == ("TEST-HOSPITAL-77412",)
    assert rule_ids("professional") == ()
    assert rule_ids(None) == ()  # professional is the default
    line = {"code": "77412", "date_of_service": "2025-06-02"}
    assert engine.evaluate_line(line, payer="commercial", claim_type="institutional").rule_ids \
        == ("TEST-HOSPITAL-77412",)


def test_an_unknown_claim_type_in_an_edit_is_a_load_error(pack_copy: Path) -> None:
    broken = _INSTITUTIONAL_ONLY.replace("[institutional]", "[hospital]")
    (pack_copy / "edits" / "2025-test.yaml").write_text(broken, "utf-8")
    with pytest.raises(RulePackError) as caught:
        load_pack(pack_copy)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    [problem] = problems
    assert isinstance(problem, Problem)
    assert (problem.file, problem.key) == ("edits/2025-test.yaml", "edits.0.claim_types.0")


def test_the_loader_checks_the_code_sets_a_kind_declares(pack_copy: Path) -> None:
    """An unknown code in a declared code set is reported; with an unreadable kind, every key
    some kind declares is checked."""
    text = _INSTITUTIONAL_ONLY.replace('codes: ["77412"]', 'codes: ["77387", "99999"]')
    text += text[text.index("  - id:"):].replace("TEST-HOSPITAL-77412", "TEST-OTHER") \
        .replace("kind: line", "kind: no_such_kind")
    (pack_copy / "edits" / "2025-test.yaml").write_text(text, "utf-8")
    with pytest.raises(RulePackError) as caught:
        load_pack(pack_copy)
    keys = sorted(problem.key for problem in caught.value.problems)
    assert keys == ["edits.0.codes.1", "edits.1.codes.1", "edits.1.kind"], keys


def test_results_echo_the_charge_and_say_whether_the_line_was_reviewed(
    engine: claimedit.Engine,
) -> None:
    result = engine.evaluate({"claim_id": "R", "payer": "commercial", "lines": [
        {"code": "77385", "date_of_service": "2025-03-03", "charge": "812.50"},
        {"code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-03", "charge": 95},
        {"code": "99213", "date_of_service": "2025-03-03"},
        {"code": "G6001", "modifiers": ["26"], "date_of_service": "2026-03-03"}]})
    imrt, tc, visit, deleted = result.lines
    assert (imrt.charge, tc.charge, visit.charge) == (Decimal("812.50"), Decimal("95"), None)
    assert imrt.reviewed and imrt.decision is Decision.ALLOW  # known, passed every edit
    assert tc.reviewed and tc.decision is Decision.BUNDLE
    assert not visit.reviewed and visit.decision is Decision.ALLOW  # not this policy's business
    assert deleted.reviewed and deleted.decision is Decision.DENY  # deleted, still known
    data = result.to_dict()["lines"]
    assert [line["charge"] for line in data] == ["812.50", "95", None, None]
    assert [line["reviewed"] for line in data] == [True, True, False, True]


def test_a_day_of_many_lines_is_decided_like_a_small_one(engine: claimedit.Engine) -> None:
    """Past the size where the day's codes are counted once (not per line), lines decide as
    they do on a small claim: the large-day path and the small one agree."""
    base = [{"code": "77385"}, {"code": "G6001", "modifiers": ["TC"]}, {"code": "G6017"}]
    small = {"claim_id": "S", "payer": "medicaid", "lines": [
        {**line, "date_of_service": "2025-03-03"} for line in base]}
    filler = [{"code": "99213", "date_of_service": "2025-03-03"}] * 100
    large = {**small, "lines": small["lines"] + filler}
    want = [(line.decision, line.reasons) for line in engine.evaluate(small).lines]
    got = [(line.decision, line.reasons) for line in engine.evaluate(large).lines[:3]]
    assert got == want
