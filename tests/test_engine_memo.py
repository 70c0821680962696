"""The per-code outcome memo of the compiled engine: derived data, bounded, never a decision."""

from __future__ import annotations

import itertools
import string

import claimedit


def _memo_entries(engine: claimedit.Engine) -> int:
    # White-box on purpose: the bound is a property of the compiled tables, not of any result.
    # Scopes (payer type, claim type) with the same checks for a code share one memo.
    memos = {id(rules): len(rules.memo) for scoped in engine._tables.values()
             for eras in scoped.values() for index in eras for rules in index.values()}
    return sum(memos.values())


def test_modifiers_no_check_tests_do_not_multiply_the_memo(engine: claimedit.Engine) -> None:
    """The memo was keyed on the line's whole modifier tuple: 200,000 claims with varied
    informational modifiers (GC, KX, 76 ...) filled it to ~470,000 entries, ~150 MB. Keyed on
    the modifiers the checks test (26, TC, modifiers_all, bypass), it stays small, and every
    line is decided exactly as it is without the other modifiers."""
    fresh = claimedit.Engine(engine.pack)
    others = ["".join(pair) for pair in itertools.product(string.ascii_uppercase, repeat=2)]
    others = [m for m in others if m != "TC"][:60]  # letters only: never 26, TC or a bypass
    for number, (code, extra) in enumerate(itertools.product(
            ["G6001", "77387", "G6017"], itertools.combinations(others, 2))):
        for component in ((), ("26",), ("TC",)):
            claim = {"claim_id": f"M{number}", "payer": "medicaid", "lines": [
                {"code": "77385", "date_of_service": "2025-03-03"},
                {"code": code, "modifiers": [*component, *extra],
                 "date_of_service": "2025-03-03"}]}
            plain = {**claim, "lines": [claim["lines"][0], {**claim["lines"][1],
                                                             "modifiers": list(component)}]}
            got, want = fresh.evaluate(claim).lines[1], engine.evaluate(plain).lines[1]
            assert (got.decision, got.reasons) == (want.decision, want.reasons)
    assert _memo_entries(fresh) < 50
