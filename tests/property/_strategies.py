"""Claim generators for the property tests: Hypothesis strategies and a seeded plain generator.

Claims are drawn from the codes of the engine's rule packs (weighted toward the codes their
edits name, so edits meet), random other codes, modifiers from {26, TC, 59, XS, LT} (or none),
1-3 units (mostly 1, so unit limits are met and missed), every payer type and claim type, 1-8
lines over 1-3 dates of service. Dates span 2014-2027 and favour the pack's own
boundaries (every first and last day of a code, edit, revision or overlay, and the days around),
where an off-by-one would hide.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from claimedit import ClaimType, Engine, Payer
from claimedit.pack.models import CodeSet, DateRange, ProcedureToProcedureEdit, PtpTableEdit

MODIFIERS = ("26", "TC", "59", "XS", "LT")
PAYERS = tuple(payer.value for payer in Payer)
CLAIM_TYPES = tuple(claim_type.value for claim_type in ClaimType)
UNITS = (1, 1, 1, 1, 2, 2, 3)
FIRST_DAY = dt.date(2014, 1, 1)
LAST_DAY = dt.date(2027, 12, 31)


@dataclass(frozen=True)
class Universe:
    """What claims for one rule pack are made of."""

    named_codes: tuple[str, ...]
    """Codes the edits name, and the image-guidance and IMRT codes: where edits meet."""
    pack_codes: tuple[str, ...]
    """Every code of the code table."""
    key_dates: tuple[dt.date, ...]
    states: tuple[str | None, ...]


def _spans(engine: Engine) -> list[DateRange]:
    spans = []
    for pack in engine.packs:
        spans += [entry.effective for entry in pack.codes] + [item.effective for item in pack.edits]
        spans += [revision.effective for revision in pack.revisions]
        for overlay in pack.overlays:
            spans.append(overlay.model.effective)
            spans += [item.effective for item in overlay.edits]
    return spans


def _code_sets(engine: Engine) -> list[CodeSet]:
    items = []
    for pack in engine.packs:
        items += list(pack.edits)
        for overlay in pack.overlays:
            items += overlay.edits
    sets = []
    for item in items:
        edit = item.edit
        if isinstance(edit, ProcedureToProcedureEdit):
            sets += [edit.column1, edit.column2]
        elif isinstance(edit, PtpTableEdit):
            sets.append(CodeSet(codes=tuple(
                {code for pair in edit.pairs for code in (pair.column1, pair.column2)})))
        else:
            sets.append(edit.codes)
    return sets


def universe(engine: Engine, states: Sequence[str | None] = (None, "OH")) -> Universe:
    """The codes, boundary dates and states to draw claims from for ``engine``'s packs."""
    entries = [entry for pack in engine.packs for entry in pack.codes]
    hot_categories = {"igrt", "imrt_delivery"}
    named = {code for code_set in _code_sets(engine) for code in code_set.codes}
    named |= {entry.code for entry in entries if entry.category in hot_categories}
    days: set[dt.date] = set()
    one = dt.timedelta(days=1)
    for span in _spans(engine):
        for day in (span.start, span.end):
            if day is not None and FIRST_DAY < day < LAST_DAY:
                days |= {day - one, day, day + one}
    return Universe(
        named_codes=tuple(sorted(named)),
        pack_codes=tuple(sorted({entry.code for entry in entries})),
        key_dates=tuple(sorted(days)),
        states=tuple(states),
    )


@functools.cache
def other_codes(exclude: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Well-formed CPT/HCPCS codes that the pack does not know (CPT, category III, HCPCS)."""
    known = frozenset(exclude)
    cpt = st.integers(0, 99999).map(lambda n: f"{n:05d}")
    category_iii = st.integers(0, 9999).map(lambda n: f"{n:04d}T")
    hcpcs = st.tuples(st.sampled_from("ABCEGJKLQ"), st.integers(0, 9999)).map(
        lambda pair: f"{pair[0]}{pair[1]:04d}")
    return st.one_of(cpt, category_iii, hcpcs).filter(lambda code: code not in known)


@functools.cache
def _parts(world: Universe) -> tuple[st.SearchStrategy[dt.date], st.SearchStrategy[str]]:
    # Built once per universe: making strategies inside every draw costs more than drawing.
    days = st.one_of(st.sampled_from(world.key_dates), st.dates(FIRST_DAY, LAST_DAY))
    named = st.sampled_from(world.named_codes)
    codes = st.one_of(named, named, st.sampled_from(world.pack_codes),
                      other_codes(world.pack_codes))
    return days, codes


def dates(world: Universe) -> st.SearchStrategy[dt.date]:
    """Dates of service from 2014 to 2027, favouring the pack's boundaries."""
    return _parts(world)[0]


modifier_lists = st.lists(st.sampled_from(MODIFIERS), max_size=4)


@st.composite
def claims(
    draw: st.DrawFn, world: Universe, *, min_lines: int = 1, max_lines: int = 8,
    line_ids: bool = True,
) -> dict[str, Any]:
    """A claim as a plain dict (what a JSON feed sends), with unique line ids when asked."""
    day_strategy, codes = _parts(world)
    days = draw(st.lists(day_strategy, min_size=1, max_size=3))
    count = draw(st.integers(min_lines, max_lines))
    lines = []
    for number in range(1, count + 1):
        line: dict[str, Any] = {
            "code": draw(codes),
            "modifiers": draw(modifier_lists),
            "date_of_service": days[draw(st.integers(0, len(days) - 1))].isoformat(),
        }
        units = draw(_UNITS)
        if units != 1:
            line["units"] = units
        if line_ids:
            line["line_id"] = f"L{number}"
        lines.append(line)
    claim: dict[str, Any] = {"claim_id": "P1", "payer": draw(_PAYER), "lines": lines,
                             "claim_type": draw(_CLAIM_TYPE)}
    state = world.states[draw(st.integers(0, len(world.states) - 1))]
    if state is not None:
        claim["state"] = state
    return claim


_PAYER = st.sampled_from(PAYERS)
_CLAIM_TYPE = st.sampled_from(CLAIM_TYPES)
_UNITS = st.sampled_from(UNITS)


def random_claim(rng: random.Random, world: Universe, number: int) -> dict[str, Any]:
    """The same shape of claim from a seeded ``random.Random``: thousands cost milliseconds."""
    span = (LAST_DAY - FIRST_DAY).days
    days = [rng.choice(world.key_dates) if rng.random() < 0.6
            else FIRST_DAY + dt.timedelta(days=rng.randrange(span + 1))
            for _ in range(rng.randint(1, 3))]
    lines = []
    for position in range(1, rng.randint(1, 8) + 1):
        roll = rng.random()
        if roll < 0.6:
            code = rng.choice(world.named_codes)
        elif roll < 0.9:
            code = rng.choice(world.pack_codes)
        else:
            code = f"{rng.randrange(10000, 100000)}"
        modifiers = [rng.choice(MODIFIERS) for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 2, 3)))]
        lines.append({"line_id": f"L{position}", "code": code, "modifiers": modifiers,
                      "date_of_service": rng.choice(days).isoformat(),
                      "units": rng.choice(UNITS)})
    claim: dict[str, Any] = {"claim_id": f"R{number}", "payer": rng.choice(PAYERS),
                             "claim_type": rng.choice(CLAIM_TYPES), "lines": lines}
    state = rng.choice(world.states)
    if state is not None:
        claim["state"] = state
    return claim
