"""The shipped example claims are valid and exercise every edit of the packaged pack."""

from __future__ import annotations

from pathlib import Path

import claimedit
from claimedit.inputs import read_records

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "claims.jsonl"


def test_examples_are_valid_and_fire_every_edit(engine: claimedit.Engine) -> None:
    with EXAMPLES.open(encoding="utf-8") as handle:
        records = list(read_records(handle, str(EXAMPLES)))
    results = list(engine.evaluate_many((record.data for record in records), errors="collect"))
    assert all(isinstance(result, claimedit.ClaimResult) for result in results)
    fired = {
        reason.rule_id
        for result in results if isinstance(result, claimedit.ClaimResult)
        for line in result.lines for reason in line.reasons
    }
    assert fired == {item.edit.id for item in engine.pack.edits}
    decisions = {line.decision for result in results if isinstance(result, claimedit.ClaimResult)
                 for line in result.lines}
    assert decisions == set(claimedit.Decision)
