"""Check a soak run: every record in is exactly one result or one error out.

    python tools/soak_verify.py soak/     # reads expected.tsv, out.jsonl, err.txt

Independent of claimedit (it reads only the files): results are matched by claim id, errors by
record number. Exits 1, listing the first discrepancies, when any record is lost, duplicated, or
decided when it should be an error (or the other way round), or stderr holds a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    expected: dict[int, tuple[str, bool, str]] = {}
    by_claim: dict[str, int] = {}
    with open(args.folder / "expected.tsv", encoding="utf-8") as handle:
        for row in handle:
            number, claim_id, state, kind = row.rstrip("\n").split("\t")
            expected[int(number)] = (claim_id, state == "good", kind)
            by_claim[claim_id] = int(number)
    seen: Counter[int] = Counter()
    problems: list[str] = []
    results = errors = 0
    with open(args.folder / "out.jsonl", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if "error" in item:
                errors += 1
                number = item["error"]["record"]
                if number not in expected:
                    problems.append(f"error for unknown record {number}")
                elif expected[number][1]:
                    problems.append(f"record {number} is good but was an error: {item['error']}")
            else:
                results += 1
                number = by_claim.get(item["claim_id"], -1)
                if number < 0:
                    problems.append(f"result for unknown claim {item['claim_id']!r}")
                elif not expected[number][1]:
                    problems.append(f"record {number} ({expected[number][2]}) was decided")
            seen[number] += 1
    lost = [n for n in expected if seen[n] == 0]
    duplicated = [n for n, count in seen.items() if count > 1]
    err = (args.folder / "err.txt").read_text("utf-8", errors="replace")
    if "Traceback" in err:
        problems.append("stderr holds a traceback")
    bad = sum(1 for _, good, _ in expected.values() if not good)
    print(f"{len(expected):,} records in ({bad:,} corrupted); {results:,} results, {errors:,} "
          f"errors out; lost {len(lost):,}, duplicated {len(duplicated):,}, "
          f"misclassified {len(problems):,}")
    for text in ([f"lost record {n}" for n in lost[:10]]
                 + [f"record {n} out more than once" for n in duplicated[:10]] + problems[:10]):
        print(f"  {text}")
    return 1 if lost or duplicated or problems else 0


if __name__ == "__main__":
    sys.exit(main())
