"""ClaimResult.to_json is the JSON of to_dict, byte for byte, whatever the content."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from claimedit import (
    Adjustment,
    ClaimResult,
    Decision,
    FieldIssue,
    HistoryStatus,
    LineResult,
    Provenance,
    Reason,
)

text = st.text(max_size=12)  # any unicode: quotes, backslashes, control characters, emoji
reasons = st.builds(
    Reason, rule_id=text, decision=st.sampled_from(Decision), message=text, group_code=text,
    carc=text, rarcs=st.lists(text, max_size=3).map(tuple), citation=text, source=text,
)
lines = st.builds(
    LineResult, line_id=st.none() | text, code=text,
    modifiers=st.lists(text, max_size=4).map(tuple),
    date_of_service=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    decision=st.sampled_from(Decision), reasons=st.lists(reasons, max_size=3).map(tuple),
    # Charges as ClaimLine admits them: >= 0, at most 2 decimals (exact text kept: "7.50").
    # ClaimLine also admits a charge written with an exponent ("1E+2", which Decimal keeps).
    charge=st.none() | st.decimals(min_value=0, max_value=10**9, places=2)
    | st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(2)),
    reviewed=st.booleans(),
)
adjustments = st.builds(
    Adjustment, claim_id=text, line_id=text, code=text,
    modifiers=st.lists(text, max_size=4).map(tuple),
    date_of_service=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    decision=st.sampled_from(Decision), reasons=st.lists(reasons, max_size=3).map(tuple),
)
# Adjustments come only with a history store (history set); without one both are left out.
history = (st.tuples(st.just(()), st.none())
           | st.tuples(st.lists(adjustments, max_size=3).map(tuple),
                       st.sampled_from(HistoryStatus)))
# Notes: what a reader left out of the claim (FHIR items, X12 lines without a CPT/HCPCS code).
notes = st.lists(st.builds(FieldIssue, field=text, reason=text, type=text), max_size=3).map(tuple)
results = st.builds(
    lambda claim_id, payer, state, lines, provenance, notes, history: ClaimResult(
        claim_id, payer, state, lines, provenance, notes, *history),
    claim_id=text, payer=text, state=st.none() | text,
    lines=st.lists(lines, min_size=1, max_size=5).map(tuple),
    provenance=st.builds(Provenance, pack=text, version=text, content_hash=text, library=text),
    notes=notes,
    history=history,
)


_AMOUNT = re.compile(r"\d+(\.\d{1,2})?")


def _is_the_compact_json_of_to_dict(result: ClaimResult) -> None:
    assert result.to_json() == json.dumps(result.to_dict(), separators=(",", ":"))


def _round_trips(result: ClaimResult) -> None:
    assert ClaimResult.from_dict(json.loads(result.to_json())) == result


def _writes_a_charge_in_fixed_notation(result: ClaimResult) -> None:
    """An 835 writer or a claims system reads the charge text as an amount: "100", never
    "1E+2" (which the input "1E+2" would otherwise echo)."""
    for line in json.loads(result.to_json())["lines"]:
        assert line["charge"] is None or _AMOUNT.fullmatch(line["charge"]), line["charge"]
    for line in result.to_dict()["lines"]:
        assert line["charge"] is None or _AMOUNT.fullmatch(line["charge"]), line["charge"]


# One property over the three checks: drawing a result is most of the cost (each check takes
# microseconds), so three tests of the same strategy drew the same examples three times.
@given(results)
def test_to_json_is_the_compact_json_of_to_dict_round_trips_and_writes_charges_as_amounts(
    result: ClaimResult,
) -> None:
    _is_the_compact_json_of_to_dict(result)
    _round_trips(result)
    _writes_a_charge_in_fixed_notation(result)
