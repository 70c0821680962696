"""Whatever a case file holds, ``rules test`` loads it or reports problems: never a crash.

Case files are written by hand, by people who are not developers: every shape of YAML (wrong
types, missing keys, lists for mappings, odd scalars) must end as cases or as a
``RulePackError`` naming file, line and key.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from claimedit.pack import RulePackError
from claimedit.policy_tests import load_cases

_KEYS = st.sampled_from(["rule", "remit", "cases", "name", "payer", "date", "lines", "code",
                         "modifiers", "expect", "decision", "fires", "rule_ids", "source",
                         "state", "note", "group_code", "carc", "rarcs", "other"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.sampled_from(["77385", "G6001", "TC", "26", "allow", "deny", "bundle",
                                      "commercial", "medicare", "2025-03-03", "2025-13-45",
                                      "IGRT-X", "", "x" * 300]),
                     st.text(max_size=20))
_DATA = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=6)), max_leaves=25)


@settings(max_examples=150)
@given(st.one_of(_DATA, st.fixed_dictionaries({"cases": st.lists(
    st.dictionaries(_KEYS, _DATA, max_size=6), max_size=3)})))
def test_any_case_file_loads_or_is_reported(data: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tests = Path(folder) / "tests"
        tests.mkdir()
        (tests / "IGRT-X.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        try:
            cases = load_cases(folder)
        except RulePackError as exc:
            assert exc.problems
            assert all(problem.file == "tests/IGRT-X.yaml" for problem in exc.problems)
        else:
            assert all(case.expectations for case in cases)
