"""Properties of ``claimedit diff`` over generated claims: a pack against itself changes nothing,
swapping old and new mirrors every group, and every changed line is counted once."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from _strategies import claims, universe
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit
from claimedit.impact import diff_claims
from claimedit.pack import packaged_rules_path

ENGINE = claimedit.load_engine()
WORLD = universe(ENGINE)


def _changed_engine(folder: Path) -> claimedit.Engine:
    """The packaged pack with the TC-into-IMRT bundle kept for Medicare only."""
    target = folder / "igrt"
    shutil.copytree(packaged_rules_path(), target)
    policy = target / "edits" / "2025-policy.yaml"
    text = policy.read_text(encoding="utf-8")
    text = text.replace("    components: [technical, global]\n    modifier_indicator: 0\n",
                        "    components: [technical, global]\n    payers: [medicare]\n"
                        "    modifier_indicator: 0\n", 1)
    policy.write_text(text, encoding="utf-8")
    return claimedit.load_engine(target)


_CHANGED: list[claimedit.Engine] = []


def _changed() -> claimedit.Engine:
    if not _CHANGED:
        folder = Path(tempfile.mkdtemp(prefix="claimedit-impact-"))
        _CHANGED.append(_changed_engine(folder))
        shutil.rmtree(folder)  # the engine holds the compiled pack, not the files
    return _CHANGED[0]


batches = st.lists(claims(WORLD), min_size=1, max_size=6)


@settings(max_examples=60)
@given(batches)
def test_a_pack_against_itself_changes_no_line(batch: list[dict[str, Any]]) -> None:
    report = diff_claims(ENGINE, ENGINE, batch)
    assert report.changed_lines == 0 and not report.recoded_groups
    assert report.lines == sum(len(claim["lines"]) for claim in batch)


@settings(max_examples=60)
@given(batches)
def test_swapping_old_and_new_mirrors_the_groups(batch: list[dict[str, Any]]) -> None:
    forward = diff_claims(ENGINE, _changed(), batch)
    backward = diff_claims(_changed(), ENGINE, batch)
    assert forward.changed_lines == backward.changed_lines
    mirrored = {(g.new, g.old, g.rules_removed, g.rules_added, g.lines) for g in backward.groups}
    assert {(g.old, g.new, g.rules_added, g.rules_removed, g.lines)
            for g in forward.groups} == mirrored


@settings(max_examples=60)
@given(batches)
def test_changed_lines_are_the_lines_whose_decision_differs(batch: list[dict[str, Any]]) -> None:
    """Counted here line by line from the two engines' results, not by the report's code."""
    new = _changed()
    expected = 0
    for claim in batch:
        before, after = ENGINE.evaluate(claim), new.evaluate(claim)
        expected += sum(a.decision is not b.decision for a, b in zip(before.lines, after.lines,
                                                                      strict=True))
    report = diff_claims(ENGINE, new, batch)
    assert report.changed_lines == expected
    matrix = report.matrix()
    assert sum(sum(row.values()) for row in matrix.values()) == report.lines
    assert sum(matrix[d][d] for d in matrix) == report.lines - expected
