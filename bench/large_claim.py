"""One claim of many lines on one date of service: engine time must grow linearly.

    python -m bench.large_claim [--lines 40000] [--repeats 3]

Issue 11 found a claim of 40,000 lines on one date taking 30 s: the engine counted the day's
codes once per line (quadratic). The claim here mixes the pack's IMRT, conventional delivery and
image guidance codes with codes no edit watches, all on 2025-03-03, so every watched line needs
the day's codes. Prints the best of ``--repeats`` times for ``Engine.evaluate`` (validation
excluded) and lines/s.
"""

from __future__ import annotations

import argparse
import time

import claimedit

_CODES = ("77385", "G6001", "G6002", "77412", "77014", "99213", "G6017", "77387")
_MODIFIERS: tuple[tuple[str, ...], ...] = ((), ("26",), ("TC",), ("59",))


def large_claim(lines: int) -> claimedit.Claim:
    """A Medicare claim of ``lines`` lines, all on one date of service."""
    return claimedit.Claim.model_validate({
        "claim_id": "LARGE", "payer": "medicare", "lines": [
            {"line_id": str(number), "code": _CODES[number % len(_CODES)],
             "modifiers": list(_MODIFIERS[number % len(_MODIFIERS)]),
             "date_of_service": "2025-03-03"}
            for number in range(lines)
        ],
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    engine = claimedit.load_engine()
    claim = large_claim(args.lines)
    best = float("inf")
    for _ in range(args.repeats):
        start = time.process_time()
        engine.evaluate(claim)
        best = min(best, time.process_time() - start)
    print(f"{args.lines:,} lines on one date: {best:.3f} s CPU ({args.lines / best:,.0f} lines/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
