"""Write a soak input: N JSON Lines records, a share of them corrupted in hostile ways.

    python tools/soak_generate.py soak/ --records 1000000 --corrupt 0.10 --seed 11
    claimedit check soak/claims.jsonl --format jsonl > soak/out.jsonl 2> soak/err.txt
    python tools/soak_verify.py soak/

Writes ``claims.jsonl`` and ``expected.tsv`` (record number, claim id, good|bad and the kind of
damage), which :mod:`tools.soak_verify` checks the output against: every record exactly once, a
result for each good one, an error for each bad one. Claims are synthetic.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

CODES = ("77385", "77386", "G6001", "G6002", "77387", "77014", "77412", "77280", "G6015")
PAYERS = ("medicare", "medicaid", "commercial")


def good(rng: random.Random, claim_id: str) -> bytes:
    lines = [{"code": rng.choice(CODES), "modifiers": rng.choice([[], ["26"], ["TC"]]),
              "date_of_service": rng.choice(["2025-03-03", "2025-11-30", "2026-02-02"]),
              "units": rng.randint(1, 3)} for _ in range(rng.randint(1, 6))]
    claim = {"claim_id": claim_id, "payer": rng.choice(PAYERS), "lines": lines}
    return json.dumps(claim).encode()


def _with(claim_id: str, **fields: object) -> bytes:
    claim = {"claim_id": claim_id, "payer": "medicare",
             "lines": [{"code": "77385", "date_of_service": "2025-03-03"}], **fields}
    return json.dumps(claim).encode()


# Each kind of damage: how a record is broken. Record numbers name the bad ones in the output
# (several kinds leave no readable claim id), so the claim id is for the good ones.
DAMAGE: dict[str, Callable[[random.Random, str], bytes]] = {
    "deep_nesting": lambda rng, cid: (b'{"claim_id": "%s", "lines": ' % cid.encode()
                                      + b"[" * 5000 + b"]" * 5000 + b"}"),
    "huge_integer": lambda rng, cid: _with(cid).replace(b'"2025-03-03"}',
                                                          b'"2025-03-03", "units": '
                                                          + b"9" * 5000 + b"}"),
    "invalid_utf8": lambda rng, cid: _with(cid).replace(b"77385", b"7738\xff"),
    "truncated": lambda rng, cid: _with(cid)[: rng.randint(1, 40)],
    "long_string": lambda rng, cid: _with(cid, payer="p" * rng.randint(100_000, 400_000)),
    "control_characters": lambda rng, cid: _with(cid + "\n\x1b[2Jerror: forged",
                                                 payer="medicare\x00"),
    "wrong_types": lambda rng, cid: _with(cid, lines=5),
    "unknown_field": lambda rng, cid: _with(cid, colour="blue"),
    "bad_code": lambda rng, cid: _with(cid).replace(b"77385", b"7738"),
    "lone_surrogate": lambda rng, cid: _with(cid).replace(b'"medicare"', b'"\\ud800"'),
    "not_a_number": lambda rng, cid: _with(cid).replace(b'"2025-03-03"}',
                                                          b'"2025-03-03", "units": NaN}'),
    "too_many_lines": lambda rng, cid: _with(
        cid, lines=[{"code": "77385", "date_of_service": "2025-03-03"}] * 100_001),
}
RARE = {"long_string": 0.001, "too_many_lines": 0.00005}  # costly to write: a small share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--corrupt", type=float, default=0.10, help="share of bad records")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.folder.mkdir(parents=True, exist_ok=True)
    kinds = list(DAMAGE)
    weights = [RARE.get(kind, 1.0) for kind in kinds]
    counts: dict[str, int] = {}
    with open(args.folder / "claims.jsonl", "wb") as claims, \
            open(args.folder / "expected.tsv", "w", encoding="utf-8") as expected:
        for number in range(1, args.records + 1):
            claim_id = f"S{number}"
            if rng.random() < args.corrupt:
                kind = rng.choices(kinds, weights)[0]
                counts[kind] = counts.get(kind, 0) + 1
                claims.write(DAMAGE[kind](rng, claim_id) + b"\n")
                expected.write(f"{number}\t{claim_id}\tbad\t{kind}\n")
            else:
                claims.write(good(rng, claim_id) + b"\n")
                expected.write(f"{number}\t{claim_id}\tgood\t\n")
    print(f"{args.records:,} records, {sum(counts.values()):,} corrupted: "
          + ", ".join(f"{kind} {count:,}" for kind, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
