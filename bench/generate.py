"""Realistic synthetic claims for the benchmark, from a fixed seed.

Each claim has a payer type (Medicare, Medicaid, commercial mixed), 1-8 lines over 1-3 dates of
service (consecutive treatment days, anywhere in 2024-2026, so both revisions of the pack and the
2026 cut-over inside one claim are hit) and one of four shapes seen in radiation oncology billing:

* an IMRT course day: an IMRT delivery code, then image guidance and other services;
* a conventional course day: a conventional delivery code, then the same;
* a professional claim: image guidance billed mostly with modifier 26, no delivery;
* an unrelated claim: office visits, labs, planning codes that no edit watches.

The radiation codes come from the rule pack's code table (categories ``igrt``, ``imrt_delivery``,
``conventional_delivery``), mostly those in force on the date of service, sometimes not (a
deleted G-code billed in 2026 is a real and frequent error). Modifiers are 26, TC, none or 59,
with the odd 26+TC. A little of what people really send is mixed in: lower-case codes with
spaces, capitalised payer names, numeric line ids, no ``modifiers`` key.

``python -m bench.generate --lines 1000000 --out claims.jsonl`` writes a JSON Lines file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from claimedit import RulePack, load_pack
from claimedit.pack import packaged_rules_path

__all__ = ["SEED", "ClaimGenerator", "claims_for_lines", "encode", "write_jsonl"]

SEED = 20250804  # the policy's last revision date: any fixed value would do

# Common codes no IGRT edit watches: office visits, radiation planning and management, labs.
# (Synthetic claims only: none of these carry a policy fact.)
UNRELATED_CODES = (
    "99202", "99203", "99204", "99212", "99213", "99214", "99215", "G0463",  # visits
    "77263", "77280", "77290", "77300", "77334", "77336", "77427",  # planning, physics, management
    "36415", "85025", "80053", "71260", "96413", "J1100",  # labs, imaging, drugs
)
_PAYERS = ("medicare", "medicaid", "commercial")
_PAYER_WEIGHTS = (40, 25, 35)
_STATES = ("OH", "TX", "CA", "FL", "NY", "MI", "WA", "IL", "GA", "AZ")
_SHAPES = ("imrt", "conventional", "professional", "unrelated")
_SHAPE_WEIGHTS = (30, 25, 10, 35)
# Image guidance modifiers: mostly a split 26/TC bill, sometimes global, rarely wrong.
_IGRT_MODIFIERS: tuple[tuple[str, ...], ...] = (
    (), ("26",), ("TC",), ("59",), ("26", "TC"), ("TC", "59"), ("26", "59"),
)
_IGRT_MODIFIER_WEIGHTS = (20, 35, 30, 5, 3, 4, 3)
_OTHER_MODIFIERS: tuple[tuple[str, ...], ...] = ((), ("59",), ("25",), ("26",), ("TC",))
_OTHER_MODIFIER_WEIGHTS = (80, 6, 6, 4, 4)
_FIRST_DAY = dt.date(2024, 1, 1)
_DAYS = (dt.date(2026, 12, 24) - _FIRST_DAY).days  # room for 3 treatment days in 2026
_STALE_CODE = 0.08  # share of radiation lines billing any code of the category, in force or not


class ClaimGenerator:
    """An endless, reproducible stream of synthetic claims (plain dicts, as read from JSON).

    Example:
        >>> claims = ClaimGenerator(seed=1).claims()
        >>> sorted(next(claims))
        ['claim_id', 'lines', 'payer', 'state']
    """

    def __init__(self, seed: int = SEED, pack: RulePack | None = None) -> None:
        self._rng = random.Random(seed)
        pack = pack or load_pack(packaged_rules_path())
        self._category: dict[str, list[tuple[str, dt.date | None, dt.date | None]]] = {}
        for entry in pack.codes:
            self._category.setdefault(entry.category, []).append(
                (entry.code, entry.effective.start, entry.effective.end)
            )
        self._pool_cache: dict[tuple[str, dt.date], list[str]] = {}

    def _pool(self, category: str, day: dt.date) -> list[str]:
        """The codes of a category in force on a day."""
        key = (category, day)
        pool = self._pool_cache.get(key)
        if pool is None:
            pool = sorted({
                code for code, start, end in self._category.get(category, [])
                if (start is None or start <= day) and (end is None or day <= end)
            })
            self._pool_cache[key] = pool
        return pool

    def _radiation_code(self, category: str, day: dt.date) -> str:
        rng = self._rng
        pool = self._pool(category, day)
        if category == "imrt_delivery" and not pool:
            # From 2026 IMRT is billed with the conventional delivery codes (ASTRO 2026).
            pool = self._pool("conventional_delivery", day)
        if not pool or rng.random() < _STALE_CODE:
            pool = sorted({code for code, _, _ in self._category[category]})
        return rng.choice(pool)

    def _line(
        self, code: str, modifiers: tuple[str, ...], day: dt.date, number: int
    ) -> dict[str, Any]:
        rng = self._rng
        roll = rng.random()
        if roll < 0.02:
            code = f" {code.lower()} "  # normalised by the input model
        line: dict[str, Any] = {}
        if roll < 0.90:
            line["line_id"] = number if roll > 0.85 else str(number)
        line["code"] = code
        if modifiers or rng.random() < 0.5:
            line["modifiers"] = list(modifiers)
        line["date_of_service"] = day.isoformat()
        if rng.random() < 0.3:
            line["units"] = 1 if rng.random() < 0.9 else 2
        return line

    def claim(self, number: int) -> dict[str, Any]:
        """One claim, numbered ``number``."""
        rng = self._rng
        count = rng.randint(1, 8)
        dates = min(count, rng.choice((1, 1, 2, 3)))
        first = _FIRST_DAY + dt.timedelta(days=rng.randrange(_DAYS + 1))
        days = [first]
        while len(days) < dates:  # the next treatment days, skipping weekends
            day = days[-1] + dt.timedelta(days=1)
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            days.append(day)
        # Every date gets a line; the rest fall on any of them.
        per_day = [days[i] for i in range(dates)]
        per_day += [rng.choice(days) for _ in range(count - dates)]
        per_day.sort()
        shape = rng.choices(_SHAPES, _SHAPE_WEIGHTS)[0]
        out = []
        previous: dt.date | None = None
        for number_on_claim, day in enumerate(per_day, start=1):
            first_of_day = day != previous
            previous = day
            if shape in ("imrt", "conventional") and first_of_day:
                category = "imrt_delivery" if shape == "imrt" else "conventional_delivery"
                code = self._radiation_code(category, day)
                modifiers = rng.choices(_OTHER_MODIFIERS, _OTHER_MODIFIER_WEIGHTS)[0]
            elif shape != "unrelated" and rng.random() < 0.6:
                code = self._radiation_code("igrt", day)
                modifiers = rng.choices(_IGRT_MODIFIERS, _IGRT_MODIFIER_WEIGHTS)[0]
                if shape == "professional" and rng.random() < 0.8:
                    modifiers = ("26",)
            else:
                code = rng.choice(UNRELATED_CODES)
                modifiers = rng.choices(_OTHER_MODIFIERS, _OTHER_MODIFIER_WEIGHTS)[0]
            out.append(self._line(code, modifiers, day, number_on_claim))
        payer = rng.choices(_PAYERS, _PAYER_WEIGHTS)[0]
        if rng.random() < 0.05:
            payer = payer.capitalize()  # payer names arrive in any case
        state = rng.choice(_STATES) if rng.random() < 0.8 else None
        return {"claim_id": f"SYN-{number:08d}", "payer": payer, "state": state, "lines": out}

    def claims(self) -> Iterator[dict[str, Any]]:
        """Claims without end, numbered from 1."""
        number = 0
        while True:
            number += 1
            yield self.claim(number)


def claims_for_lines(total_lines: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """Claims adding up to exactly ``total_lines`` claim lines (the last one is cut to fit)."""
    generator = ClaimGenerator(seed)
    left = total_lines
    number = 0
    while left > 0:
        number += 1
        claim = generator.claim(number)
        if len(claim["lines"]) > left:
            claim["lines"] = claim["lines"][:left]
        left -= len(claim["lines"])
        yield claim


def encode(claim: dict[str, Any]) -> bytes:
    """One JSON Lines record (without the newline), as a client would send it."""
    return json.dumps(claim, separators=(", ", ": ")).encode()


def write_jsonl(path: Path, total_lines: int, seed: int = SEED) -> tuple[int, int]:
    """Write claims totalling ``total_lines`` claim lines; returns (claims, bytes written)."""
    claims = written = 0
    with path.open("wb") as handle:
        for claim in claims_for_lines(total_lines, seed):
            record = encode(claim) + b"\n"
            handle.write(record)
            written += len(record)
            claims += 1
    return claims, written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--lines", type=int, default=100_000, help="claim lines in total")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    args = parser.parse_args(argv)
    claims, size = write_jsonl(args.out, args.lines, args.seed)
    print(f"{args.out}: {claims} claims, {args.lines} lines, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
