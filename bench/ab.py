"""Engine-only throughput of two checkouts side by side, in one run: figure (a) as ratios.

    python -m bench.ab --base /tmp/base-checkout [--rounds 7] [--lines 100000]
                       [--variant igrt --variant igrt,ncci-radonc]

Each round runs, in turn, one child process per side and variant; a child loads the engine from
its own checkout (``PYTHONPATH=<checkout>/src``), builds the benchmark's synthetic claims
(``bench/generate.py`` of that checkout, fixed seed), validates them, then times
``Engine.evaluate`` over all of them (best of 3 passes). Rounds are interleaved, so a noisy
neighbour on a shared machine slows both sides of a round alike; the best of the rounds is kept
per side, and the report gives lines/s and each figure's ratio to the base with IGRT alone.

A variant is a comma-separated list of packs given to ``load_engine`` (a name or a directory);
``igrt`` alone is ``load_engine()`` so that a base without composition runs it too. Variants other
than ``igrt`` run on this checkout only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import gc, json, sys, time
from bench.generate import claims_for_lines
import claimedit
packs = sys.argv[1].split(",")
lines = int(sys.argv[2])
engine = claimedit.load_engine() if packs == ["igrt"] else claimedit.load_engine(packs)
claims = [claimedit.Claim.model_validate(c) for c in claims_for_lines(lines)]
count = sum(len(c.lines) for c in claims)
evaluate = engine.evaluate
for claim in claims:  # warm the memo, as a long batch would be
    evaluate(claim)
best = float("inf")
for _ in range(3):
    start = time.process_time()
    for claim in claims:
        evaluate(claim)
    best = min(best, time.process_time() - start)
print(json.dumps({"lines": count, "seconds": best}))
"""


def _run(checkout: Path, packs: str, lines: int, cpu: int | None) -> float:
    env = {**os.environ, "PYTHONPATH": f"{checkout / 'src'}{os.pathsep}{checkout}"}
    command = [sys.executable, "-c", _CHILD, packs, str(lines)]
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        command = ["taskset", "-c", str(cpu), *command]
    out = subprocess.run(command, env=env, cwd=checkout, check=True, capture_output=True,
                         text=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return float(figures["lines"]) / float(figures["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--base", type=Path, required=True, help="the baseline checkout")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--variant", action="append", default=None,
                        help="packs for this checkout, comma-separated (repeatable)")
    parser.add_argument("--cpu", type=int, default=None, help="pin the children to this core")
    args = parser.parse_args(argv)
    variants = args.variant or ["igrt"]
    sides = [("base igrt", args.base, "igrt")] + [
        (f"this {variant}", REPO, variant) for variant in variants
    ]
    best: dict[str, float] = {}
    for number in range(1, args.rounds + 1):
        for label, checkout, packs in sides:
            rate = _run(checkout, packs, args.lines, args.cpu)
            best[label] = max(best.get(label, 0.0), rate)
            print(f"round {number}: {label:<28} {rate:>12,.0f} lines/s", flush=True)
    base = best["base igrt"]
    print(f"\nbest of {args.rounds} rounds, {args.lines:,} lines (engine only):")
    for label, _, _ in sides:
        print(f"  {label:<28} {best[label]:>12,.0f} lines/s  {best[label] / base:.3f}x base")
    if "this igrt" in best and len(sides) > 2:
        for label, _, _ in sides[2:]:
            print(f"  {label:<28} {best[label] / best['this igrt']:.3f}x this igrt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
