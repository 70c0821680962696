"""Properties of units, claim types and composed packs, on claims Hypothesis draws from the
codes of the IGRT and NCCI packs (units 1-3, both claim types, every payer type)."""

from __future__ import annotations

from typing import Any

import pytest
from _strategies import claims, universe
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reference import Reference, _compare

import claimedit
from claimedit import Decision

_IGRT = claimedit.load_engine()
_NCCI = claimedit.load_engine("ncci-radonc")
_BOTH = claimedit.load_engine(["igrt", "ncci-radonc"])
_WORLD = universe(_BOTH)


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(_BOTH)


@settings(max_examples=200)
@given(claim=claims(_WORLD))
def test_composed_engine_matches_reference(reference: Reference, claim: dict[str, Any]) -> None:
    """IGRT + NCCI against the naive reference: units, MUE indicators, claim types, PTP rows."""
    _compare(_BOTH, reference, claim)


@settings(max_examples=150)
@given(claim=claims(_WORLD))
def test_a_composition_is_the_union_of_its_packs(claim: dict[str, Any]) -> None:
    """Packs do not interact: each line's reasons under IGRT + NCCI are the IGRT engine's and
    the NCCI engine's together (sorted by rule id), and its decision the more severe."""
    both, igrt, ncci = (engine.evaluate(claim) for engine in (_BOTH, _IGRT, _NCCI))
    for line, alone, other in zip(both.lines, igrt.lines, ncci.lines, strict=True):
        assert line.reasons == tuple(sorted(alone.reasons + other.reasons,
                                            key=lambda reason: reason.rule_id))
        assert line.decision == max(alone.decision, other.decision, key=lambda d: d.severity)
        assert line.reviewed == (alone.reviewed or other.reviewed)


@settings(max_examples=150)
@given(claim=claims(_WORLD), position=st.integers(0, 7), more=st.integers(1, 50))
def test_more_units_never_make_a_line_less_severe(
    claim: dict[str, Any], position: int, more: int
) -> None:
    """A unit limit only ever fires on more units: adding units to one line never lowers the
    decision of any line of the claim."""
    lines = claim["lines"]
    position %= len(lines)
    raised = {**claim, "lines": [
        {**line, "units": line.get("units", 1) + more} if index == position else line
        for index, line in enumerate(lines)]}
    before, after = _BOTH.evaluate(claim), _BOTH.evaluate(raised)
    for old, new in zip(before.lines, after.lines, strict=True):
        assert new.decision.severity >= old.decision.severity


@settings(max_examples=150)
@given(claim=claims(_WORLD))
def test_claim_type_changes_nothing_in_the_igrt_pack(claim: dict[str, Any]) -> None:
    """The IGRT pack has no edit scoped to a claim type: professional and institutional claims
    are decided alike; in the NCCI pack, a claim type only ever selects its own table's edits."""
    professional = {**claim, "claim_type": "professional"}
    institutional = {**claim, "claim_type": "institutional"}
    assert _IGRT.evaluate(professional).lines == _IGRT.evaluate(institutional).lines
    for claim_type, table in (("professional", "HOSPITAL"), ("institutional", "PRACTITIONER")):
        for line in _NCCI.evaluate({**claim, "claim_type": claim_type}).lines:
            assert not any(f"-{table}" in rule_id for rule_id in line.rule_ids)


@settings(max_examples=100)
@given(claim=claims(_WORLD))
def test_ncci_only_acts_on_medicare(claim: dict[str, Any]) -> None:
    """The packaged NCCI pack is scoped to Medicare: other payer types' lines get nothing."""
    if claim["payer"] == "medicare":
        claim = {**claim, "payer": "commercial"}
    assert all(line.decision is Decision.ALLOW and not line.reasons
               for line in _NCCI.evaluate(claim).lines)


@settings(max_examples=150)
@given(claim=claims(_WORLD))
def test_evaluate_line_equals_the_claim_under_the_composition(claim: dict[str, Any]) -> None:
    """evaluate_line, given the codes of the claim's other lines that date (a code once per
    line: repeats are units), decides each line of IGRT + NCCI as the whole claim does, unit
    limits and PTP tables included. The other lines are of one unit each: that is what
    ``same_day_codes`` can say (their modifiers never matter: a column-1 line's modifiers do not
    change a pair, and a date-of-service limit counts the code whatever its modifiers)."""
    claim = {**claim, "lines": [{**line, "units": 1} for line in claim["lines"]]}
    for position, units in ((0, 1), (0, 3), (len(claim["lines"]) - 1, 2)):
        lines = [{**line, "units": units} if index == position else line
                 for index, line in enumerate(claim["lines"])]
        whole = _BOTH.evaluate({**claim, "lines": lines})
        line = lines[position]
        same_day = [other["code"] for index, other in enumerate(lines)
                    if index != position and other["date_of_service"] == line["date_of_service"]]
        alone = _BOTH.evaluate_line(line, payer=claim["payer"], same_day_codes=same_day,
                                    state=claim.get("state"), claim_type=claim["claim_type"])
        assert alone == whole.lines[position]
