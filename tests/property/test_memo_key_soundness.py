"""The engine's outcome memo is keyed on the facts each check *declares* it reads
(:class:`claimedit.edits.Fact`, plus the check's ``modifiers``, ``day_codes`` and
``units_cap``). If a kind's predicate read anything else, two lines with the same key but
different undeclared facts would share one memo entry, and the second would get the first one's
decision: a stale result that no end-to-end sample is sure to meet.

The property checked here is the contract itself, for every check every shipped pack compiles
(each kind, each era): a predicate answers the same on a line's full facts and on those facts
narrowed to its declaration, as the engine narrows them to build the memo key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit
from claimedit.edits import KINDS, Check, CodeTable, Fact, Facts, components_billed
from claimedit.engine import _edits_in_force

_ENGINE = claimedit.load_engine(["igrt", "ncci-radonc"])
# A day in each era of the two packs (before 2015, 2015-2024, NCCI in force, 2026 code set).
_DAYS = (dt.date(2014, 6, 2), dt.date(2015, 6, 1), dt.date(2024, 9, 3), dt.date(2025, 6, 2),
         dt.date(2026, 2, 2))
# Modifiers that some check tests (26, TC, bypass modifiers) and some none does.
_MODIFIERS = ("26", "TC", "59", "XS", "LT", "76", "GC", "KX", "E1")


def _compiled() -> Iterator[tuple[str, Check]]:
    for pack in _ENGINE.packs:
        for day in _DAYS:
            table = CodeTable(pack.codes, day)
            for item in _edits_in_force(pack, day, None):  # what the engine compiles
                for code, check in KINDS[item.edit.kind].compile(item, table):
                    yield f"{item.edit.id}:{code}:{day}", check


_CHECKS = dict(_compiled())
_CODES = sorted({entry.code for pack in _ENGINE.packs for entry in pack.codes} | {"99213"})


def narrowed(check: Check, facts: Facts) -> Facts:
    """The facts as the memo key keeps them for this check alone (the engine keeps the union
    over a code's checks, a superset: if each check is sound alone, the union is)."""
    reads = check.reads
    tested: set[str] = set()
    if Fact.COMPONENTS in reads:
        tested |= {"26", "TC"}
    if Fact.MODIFIERS in reads:
        tested |= check.modifiers
    modifiers = tuple(m for m in facts.modifiers if m in tested)
    day_codes = facts.day_codes & check.day_codes if Fact.DAY_CODES in reads else frozenset()
    units = min(facts.units, check.units_cap) if Fact.UNITS in reads else 0
    day_units = min(facts.day_units, check.units_cap) if Fact.DAY_UNITS in reads else 0
    return Facts(modifiers, components_billed(modifiers), units, day_codes, day_units)


@st.composite
def line_facts(draw: st.DrawFn) -> Facts:
    modifiers = tuple(draw(st.lists(st.sampled_from(_MODIFIERS), max_size=4, unique=True)))
    units = draw(st.integers(0, 12))
    return Facts(
        modifiers=modifiers,
        components=components_billed(modifiers),
        units=units,
        day_codes=frozenset(draw(st.sets(st.sampled_from(_CODES), max_size=6))),
        day_units=units + draw(st.integers(0, 12)),
    )


def test_the_packs_compile_a_check_of_every_kind() -> None:
    """Otherwise a kind no shipped pack uses would escape the property below. Table-backed
    kinds (``Kind.table``: the imported NCCI tables) are not memoised: the engine calls their
    check for every line with the line's full facts, so the memo key cannot go stale for them
    (their behaviour is tested in tests/ncci/)."""
    by_id = {item.edit.id: item.edit.kind for pack in _ENGINE.packs for item in pack.edits}
    memoised = {name for name, kind in KINDS.items() if kind.table is None}
    assert memoised != set(KINDS)  # the exclusion above is about real kinds
    assert {by_id[name.split(":")[0]] for name in _CHECKS} == memoised


@settings(max_examples=300)
@given(name=st.sampled_from(sorted(_CHECKS)), facts=line_facts())
def test_a_predicate_reads_only_the_facts_its_check_declares(name: str, facts: Facts) -> None:
    check = _CHECKS[name]
    assert check.fires(facts) == check.fires(narrowed(check, facts)), name


def test_the_property_catches_a_check_that_reads_an_undeclared_fact() -> None:
    """A unit limit that forgets to declare the units it reads gives a stale answer once
    narrowed: the property above would fail on such a kind."""
    liar = Check("LIAR", next(iter(_CHECKS.values())).reason, lambda facts: facts.units > 2,
                 frozenset({Fact.MODIFIERS}))
    facts = Facts((), components_billed(()), 3, frozenset(), 3)
    assert liar.fires(facts) != liar.fires(narrowed(liar, facts))


@pytest.mark.parametrize("units", [1, 2, 3, 40, 9999])
def test_units_above_the_cap_answer_as_the_cap(units: int) -> None:
    """units_cap is "a limit plus one": every larger count answers the same."""
    for name, check in _CHECKS.items():
        if check.units_cap:
            capped = Facts((), components_billed(()), min(units, check.units_cap), frozenset(),
                           min(units, check.units_cap))
            full = Facts((), components_billed(()), units, frozenset(), units)
            assert check.fires(full) == check.fires(capped), name
