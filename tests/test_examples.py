"""The shipped example claims are valid and exercise every edit of every packaged pack (alone
for the default pack; composed, as the docs show, for the others) and of every example overlay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import claimedit
from claimedit.inputs import read_records
from claimedit.pack import packaged_packs

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


def test_examples_fire_every_edit_of_every_packaged_pack_composed() -> None:
    """The docs demonstrate `claimedit check examples/claims.jsonl --rules igrt --rules
    ncci-radonc` (and `diff` opting into NCCI): the examples must show every packaged pack's
    edits, or the demonstration shows nothing changing."""
    composed = claimedit.load_engine(sorted(packaged_packs()))
    claims = [json.loads(text) for text in EXAMPLES.read_text("utf-8").splitlines() if text]
    fired = {reason.rule_id for claim in claims for line in composed.evaluate(claim).lines
             for reason in line.reasons}
    every = {item.edit.id for pack in composed.packs for item in pack.edits}
    assert every - fired == set()


OVERLAYS = sorted((EXAMPLES.parent / "states").glob("*.yaml"))


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: path.name)
def test_example_claims_exercise_every_example_overlay(
    engine: claimedit.Engine, overlay: Path
) -> None:
    """The overlay demo (`claimedit check examples/claims.jsonl --overlay <it>`) shows something:
    every edit the overlay replaces or adds fires, from the overlay, on an example claim of its
    state, and every edit it disables fires there without the overlay and not with it."""
    with_overlay = claimedit.load_engine(overlays=[overlay])
    [loaded] = with_overlay.pack.overlays
    claims = [json.loads(text) for text in EXAMPLES.read_text("utf-8").splitlines() if text]
    in_state = [claim for claim in claims if str(claim.get("state")).upper() == loaded.state]
    assert in_state, f"no example claim has state {loaded.state}"

    def fired(which: claimedit.Engine) -> list[set[tuple[str, str]]]:
        """The (rule id, source) pairs of each line of the state's claims."""
        return [{(reason.rule_id, reason.source) for reason in line.reasons}
                for claim in in_state for line in which.evaluate(claim).lines]

    before, after = fired(engine), fired(with_overlay)
    for item in loaded.edits:
        assert any((item.edit.id, f"state:{loaded.state}") in line for line in after), item.edit.id
    for rule_id in loaded.model.disable:
        assert any(rule_id in {rule for rule, _ in old} and rule_id not in {rule for rule, _ in new}
                   for old, new in zip(before, after, strict=True)), rule_id
