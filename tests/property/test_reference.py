"""A deliberately naive reference evaluator, compared with the compiled engine.

The engine compiles the pack into per-era, per-payer code indexes with memoised outcomes so that
batches run fast. The reference below does none of that: for every line it walks every edit of
``engine.pack``, checks the dates of the edit and of the code-table entries, the payer type, the
components the line bills (modifiers 26/TC), the codes of the other lines of the same date of
service and the modifier indicator with its bypass modifiers. It is written from the edit kinds'
documentation, not from the engine's code, and favours obviousness over speed.

Any optimisation of the engine that changes a single decision or reason fails here. The packaged
pack only has indicator-0 pair edits and no state exceptions, so a second, synthetic variant pack
exercises what it lacks: indicator 1 with bypass modifiers, indicator 9, a code whose entries
change over time, a pair edit whose column 1 and column 2 share a code, and a state overlay that
switches edits off, replaces one and adds one.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from typing import Any

import pytest
from _strategies import claims, random_claim, universe
from hypothesis import given, settings

import claimedit
from claimedit import Claim, Decision, LineResult, Reason
from claimedit.pack import SourcedEdit, packaged_rules_path
from claimedit.pack.models import (
    CodeEntry,
    CodeSet,
    CodeValidityEdit,
    ComponentModifierEdit,
    DateRange,
    LineEdit,
    ProcedureToProcedureEdit,
)

RANK = {Decision.ALLOW: 0, Decision.BUNDLE: 1, Decision.DENY: 2}


# --- the reference --------------------------------------------------------------------------

def in_force(span: DateRange, day: dt.date) -> bool:
    """Both ends inclusive; a missing end is unbounded."""
    if span.start is not None and day < span.start:
        return False
    return not (span.end is not None and day > span.end)


def billed_components(modifiers: tuple[str, ...]) -> set[str]:
    """Modifier 26 bills the professional component, TC the technical one, neither the global
    service; 26 with TC claims both parts at once."""
    components = set()
    if "26" in modifiers:
        components.add("professional")
    if "TC" in modifiers:
        components.add("technical")
    return components or {"global"}


class Reference:
    """The edit semantics, line by line, edit by edit."""

    def __init__(self, engine: claimedit.Engine) -> None:
        self.pack = engine.pack

    def codes_of(self, code_set: CodeSet) -> set[str]:
        """The codes named, plus every code of the code table in a named category."""
        codes = set(code_set.codes)
        for entry in self.pack.codes:
            if entry.category in code_set.categories:
                codes.add(entry.code)
        return codes

    def entry_in_force(self, code: str, day: dt.date) -> CodeEntry | None:
        entries = [e for e in self.pack.codes if e.code == code and in_force(e.effective, day)]
        assert len(entries) <= 1, f"the code table has two entries for {code} on {day}"
        return entries[0] if entries else None

    def edits_for(self, day: dt.date, state: str | None) -> list[SourcedEdit]:
        """The pack's edits in force that day. For a claim of an overlay's state, within the
        overlay's dates: its disabled edits go; each replacement (in force that day) takes the
        place of the pack edit of its id, but only while that edit is in force; each added edit
        (in force that day) joins."""
        chosen: dict[str, SourcedEdit] = {}
        for item in self.pack.edits:
            if in_force(item.effective, day):
                assert item.edit.id not in chosen, f"two versions of {item.edit.id} on {day}"
                chosen[item.edit.id] = item
        for overlay in self.pack.overlays:
            if overlay.state != state or not in_force(overlay.model.effective, day):
                continue
            for rule_id in overlay.model.disable:
                chosen.pop(rule_id, None)
            for item in overlay.replace:
                if item.edit.id in chosen and in_force(item.effective, day):
                    chosen[item.edit.id] = item
            for item in overlay.add:
                if in_force(item.effective, day):
                    chosen[item.edit.id] = item
        return list(chosen.values())

    def fires(self, item: SourcedEdit, claim: Claim, position: int) -> bool:
        edit = item.edit
        line = claim.lines[position]
        if claim.payer not in edit.payers or claim.claim_type not in edit.claim_types:
            return False
        components = billed_components(line.modifiers)
        if isinstance(edit, CodeValidityEdit):
            return (line.code in self.codes_of(edit.codes)
                    and self.entry_in_force(line.code, line.date_of_service) is None)
        if isinstance(edit, ComponentModifierEdit):
            if line.code not in self.codes_of(edit.codes):
                return False
            entry = self.entry_in_force(line.code, line.date_of_service)
            if entry is None:
                return False
            refused_26 = "26" in line.modifiers and not entry.modifier_26
            refused_tc = "TC" in line.modifiers and not entry.modifier_tc
            return refused_26 or refused_tc
        if isinstance(edit, LineEdit):
            return (line.code in self.codes_of(edit.codes)
                    and bool(components & {str(c) for c in edit.components})
                    and all(m in line.modifiers for m in edit.modifiers_all))
        assert isinstance(edit, ProcedureToProcedureEdit)
        if edit.modifier_indicator == 9:
            return False
        if line.code not in self.codes_of(edit.column2):
            return False
        if not components & {str(c) for c in edit.components}:
            return False
        column1 = self.codes_of(edit.column1)
        paired = any(
            other.code in column1 and other.date_of_service == line.date_of_service
            for index, other in enumerate(claim.lines) if index != position
        )
        if not paired:
            return False
        bypassed = edit.modifier_indicator == 1 and any(
            m in edit.bypass_modifiers for m in line.modifiers)
        return not bypassed

    def evaluate(self, claim: Claim) -> tuple[LineResult, ...]:
        results = []
        for position, line in enumerate(claim.lines):
            reasons = []
            for item in self.edits_for(line.date_of_service, claim.state):
                if self.fires(item, claim, position):
                    edit = item.edit
                    reasons.append(Reason(
                        rule_id=edit.id, decision=edit.decision,
                        message=edit.message.replace("{code}", line.code),
                        group_code=edit.group_code, carc=edit.carc, rarcs=tuple(edit.rarcs),
                        citation=str(edit.citation), source=item.source,
                    ))
            reasons.sort(key=lambda reason: reason.rule_id)
            decision = Decision.ALLOW
            for reason in reasons:
                if RANK[reason.decision] > RANK[decision]:
                    decision = reason.decision
            # Reviewed: some code table of the pack lists the code (on any date).
            reviewed = any(entry.code == line.code for entry in self.pack.codes)
            results.append(LineResult(
                line.line_id or str(position + 1), line.code, line.modifiers,
                line.date_of_service, decision, tuple(reasons), line.charge, reviewed,
            ))
        return tuple(results)


# --- the synthetic variant pack -------------------------------------------------------------

_VARIANT_CODES = """\
  - code: "77470"
    label: Special treatment procedure (synthetic entry for tests)
    category: special
    modifier_26: true
    modifier_tc: false
    effective: {start: 2018-03-01, end: 2020-02-29}
    source: tests
  - code: "77470"
    label: Special treatment procedure (synthetic entry for tests), second version
    category: special
    modifier_26: false
    modifier_tc: true
    effective: {start: 2021-01-01}
    source: tests
"""

_CITE = "citation: {document: synthetic test revision, text: a fact for the reference test}"
_REMIT = 'group_code: CO\n    carc: "97"\n    rarcs: [M15]\n    ' + _CITE

_VARIANT_EDITS = f"""\
revision:
  id: variant-2019
  title: Synthetic revision exercising what the packaged pack lacks
  effective: {{start: 2019-07-01, end: 2022-06-30}}
  {_CITE}
edits:
  - id: VAR-PTP-BYPASS
    kind: procedure_to_procedure
    column1: [G6002]
    column2: [G6001]
    modifier_indicator: 1
    bypass_modifiers: ["59", XS]
    decision: bundle
    message: "{{code}} is bundled into G6002 unless 59 or XS marks a distinct procedure."
    {_REMIT}
  - id: VAR-PTP-OFF
    kind: procedure_to_procedure
    column1: {{categories: [conventional_delivery]}}
    column2: {{categories: [igrt]}}
    modifier_indicator: 9
    decision: deny
    message: "an edit not in effect never fires on {{code}}"
    {_REMIT}
  - id: VAR-SAME-CODE
    kind: procedure_to_procedure
    column1: ["77470", "77014"]
    column2: ["77470"]
    components: [professional, global]
    modifier_indicator: 0
    decision: bundle
    effective: {{start: 2021-01-01, end: 2022-06-30}}
    message: "a second {{code}} the same day is bundled"
    {_REMIT}
  - id: VAR-LINE-LT
    kind: line
    codes: {{categories: [special]}}
    components: [technical]
    modifiers_all: [LT]
    payers: [medicaid, commercial]
    decision: deny
    message: "{{code}}-TC-LT is not payable"
    {_REMIT}
  - id: VAR-COMPONENT
    kind: component_modifier
    codes: {{codes: ["77470"], categories: [imrt_delivery]}}
    decision: deny
    message: "{{code}} refuses that component modifier"
    {_REMIT}
  - id: VAR-VALIDITY
    kind: code_validity
    codes: ["77470"]
    payers: [medicare]
    decision: deny
    message: "{{code}} is not valid on this date"
    {_REMIT}
"""

_VARIANT_OVERLAY = f"""\
state: NM
title: Synthetic state exception for the reference test
effective: {{start: 2020-01-01}}
{_CITE}
disable: [IGRT-MEDICARE-77387, IGRT-MEDICAID-NCCI-77387-INTO-IMRT]
replace:
  # No end date: the replacement ends with the pack edit it replaces (2025-12-31).
  - id: IGRT-TC-BUNDLED-INTO-IMRT
    kind: procedure_to_procedure
    column1: {{categories: [imrt_delivery]}}
    column2: ["77014", G6001, G6002, "77387"]
    components: [technical, global]
    modifier_indicator: 1
    bypass_modifiers: ["59", XS]
    decision: bundle
    effective: {{start: 2020-01-01}}
    message: "NM: the TC of {{code}} is bundled into IMRT unless 59/XS"
    {_REMIT}
add:
  - id: NM-77387-26-MEDICAID
    kind: line
    codes: ["77387"]
    components: [professional]
    payers: [medicaid]
    decision: deny
    effective: {{start: 2024-01-01}}
    message: "NM Medicaid does not pay {{code}}-26"
    {_REMIT}
"""


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> claimedit.Engine:
    """The packaged pack plus the synthetic codes, revision and NM overlay above."""
    root = tmp_path_factory.mktemp("variant") / "igrt"
    shutil.copytree(packaged_rules_path(), root)
    codes = root / "codes.yaml"
    codes.write_text(codes.read_text("utf-8") + _VARIANT_CODES, "utf-8")
    (root / "edits" / "2019-variant.yaml").write_text(_VARIANT_EDITS, "utf-8")
    (root / "states").mkdir(exist_ok=True)
    (root / "states" / "NM.yaml").write_text(_VARIANT_OVERLAY, "utf-8")
    return claimedit.load_engine(root)


_VARIANT_STATES = (None, "NM", "NM", "OH")


# --- the comparisons ------------------------------------------------------------------------

def _compare(engine: claimedit.Engine, reference: Reference, claim: dict[str, Any]) -> None:
    model = Claim.model_validate(claim)
    got = engine.evaluate(model).lines
    want = reference.evaluate(model)
    for line, expected in zip(got, want, strict=True):
        assert line == expected, (
            f"claim {claim}\nline {line.line_id}: engine {line.decision.value} {line.rule_ids}, "
            f"reference {expected.decision.value} {expected.rule_ids}"
        )


SAMPLE = 5000


def test_engine_matches_reference_on_a_large_sample(engine: claimedit.Engine) -> None:
    """Several thousand seeded random claims through the packaged pack: the engine and the
    naive reference agree on every line's decision and every reason."""
    reference = Reference(engine)
    world = universe(engine)
    rng = random.Random(20250804)
    fired: set[str] = set()
    for number in range(SAMPLE):
        claim = random_claim(rng, world, number)
        _compare(engine, reference, claim)
        fired |= {r for line in engine.evaluate(claim).lines for r in line.rule_ids}
    # The sample is only worth something if it meets every edit of the pack.
    assert fired == {item.edit.id for item in engine.pack.edits}


def test_engine_matches_reference_on_the_variant_pack(variant: claimedit.Engine) -> None:
    """The same on the synthetic pack: bypass modifiers, indicator 9, dated code entries, a
    shared column-1/column-2 code, and a state overlay that disables and replaces edits."""
    reference = Reference(variant)
    world = universe(variant, _VARIANT_STATES)
    rng = random.Random(2019)
    fired: set[str] = set()
    for number in range(SAMPLE):
        claim = random_claim(rng, world, number)
        _compare(variant, reference, claim)
        fired |= {r for line in variant.evaluate(claim).lines for r in line.rule_ids}
    expected = {item.edit.id for item in variant.pack.edits} - {"VAR-PTP-OFF"}
    expected |= {item.edit.id for overlay in variant.pack.overlays for item in overlay.edits}
    assert expected <= fired, f"never fired: {sorted(expected - fired)}"
    assert "VAR-PTP-OFF" not in fired


_WORLD = universe(claimedit.load_engine())


@settings(max_examples=300)
@given(claim=claims(_WORLD))
def test_engine_matches_reference_hypothesis(engine: claimedit.Engine,
                                             claim: dict[str, Any]) -> None:
    """Hypothesis explores (and shrinks to a minimal claim on failure) the same comparison."""
    _compare(engine, Reference(engine), claim)


def test_reference_agrees_with_the_policy_on_known_lines(engine: claimedit.Engine) -> None:
    """The reference itself is checked on lines whose answer the policy gives, so that agreeing
    with it means something."""
    reference = Reference(engine)
    claim = Claim.model_validate({"claim_id": "K", "payer": "medicaid", "lines": [
        {"code": "77385", "date_of_service": "2025-06-09"},
        {"code": "77387", "date_of_service": "2025-06-09"},
        {"code": "G6001", "modifiers": ["26"], "date_of_service": "2025-06-09"},
        {"code": "G6017", "modifiers": ["26"], "date_of_service": "2025-06-09"}]})
    decisions = [(line.decision, line.rule_ids) for line in reference.evaluate(claim)]
    assert decisions == [
        (Decision.ALLOW, ()),
        (Decision.BUNDLE, ("IGRT-MEDICAID-NCCI-77387-INTO-IMRT", "IGRT-TC-BUNDLED-INTO-IMRT")),
        (Decision.ALLOW, ()),
        (Decision.DENY, ("IGRT-COMPONENT-MODIFIER",)),
    ]
