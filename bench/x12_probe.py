"""Probe the X12 reader with files written by others, and with every one-segment mutation of
them: a documented command, not a test (the test suite runs the mutation probe over
``tests/data/igrt_837p.x12`` only).

    python -m bench.x12_probe DIR_OR_FILE... [--mutate]

For each 837 file: every CLM01 must be named by a record (a result or an error), and reading
must not raise. With ``--mutate`` each file is also read with each segment deleted, duplicated,
its id corrupted and its first element doubled, in turn. Prints one line per file and exits 1
when a file breaks either rule. The public samples named in issue 10 (LinuxForHealth x12,
OopFactory X12Parser, databricks x12-edi-parser) are fetched with ``git clone``; their 5010 837
files are the ones whose GS08 starts with ``005010X22``.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/x12_probe.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from claimedit.adapters.x12 import read_x12


def _files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() \
            else [path]
        for candidate in candidates:
            head = candidate.read_bytes()[:4096]
            if b"005010X22" in head or b"0\x000\x005\x000\x001\x000\x00X\x002\x002" in head:
                yield candidate


def _delimiters(text: str) -> tuple[str, str]:
    text = text.lstrip("\ufeff \t\r\n")
    element, at = text[3], 3
    for _ in range(15):
        at = text.find(element, at + 1)
    return element, text[at + 2]


def _clm01s(text: str, element: str, terminator: str) -> list[str]:
    found = []
    for segment in text.split(terminator):
        parts = segment.strip().split(element)
        if parts[0] == "CLM":
            found.append(parts[1] if len(parts) > 1 else "")
    return found


def _check(data: bytes, name: str) -> tuple[int, int, list[str]]:
    """(claims decided, records in error, CLM01s not named)."""
    records = list(read_x12(io.BytesIO(data), name))
    text = data.decode("utf-8-sig", "replace")
    element, terminator = _delimiters(text)
    named = [getattr(r.data, "claim_id", None) or "" for r in records if r.number]
    missing = [c for c in _clm01s(text, element, terminator) if c not in named]
    decided = sum(1 for r in records if r.number and not hasattr(r.data, "issues"))
    return decided, sum(1 for r in records if hasattr(r.data, "issues")), missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--mutate", action="store_true")
    args = parser.parse_args(argv)
    failed = 0
    for path in _files(args.paths):
        data = path.read_bytes()
        try:
            decided, errors, missing = _check(data, path.name)
        except Exception as exc:  # the point of the probe: report, count, go on
            print(f"RAISED {path}: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        verdict = "ok" if not missing else f"CLM01 not named: {missing}"
        failed += bool(missing)
        print(f"{verdict:4} {path.name}: {decided} decided, {errors} error records")
        if args.mutate:
            failed += _mutate(data, path.name)
    print(f"{failed} failures")
    return 1 if failed else 0


def _mutate(data: bytes, name: str) -> int:
    text = data.decode("utf-8-sig", "replace")
    element, terminator = _delimiters(text)
    segments = text.split(terminator)
    failures = 0
    for k, segment in enumerate(segments):
        body = segment.strip()
        if not body:
            continue
        for label, replacement in (("delete", []), ("duplicate", [segment, segment]),
                                   ("corrupt-id", ["X" + body[1:]]),
                                   ("shift", [segment.replace(element, element * 2, 1)])):
            mutated = terminator.join(segments[:k] + replacement + segments[k + 1:])
            try:
                records = list(read_x12([mutated], name))
            except Exception as exc:
                print(f"RAISED {name} {label} segment {k + 1}: {type(exc).__name__}: {exc}")
                failures += 1
                continue
            numbers = [r.number for r in records if r.number]
            if numbers != list(range(1, len(numbers) + 1)):
                print(f"NUMBERING {name} {label} segment {k + 1}")
                failures += 1
    return failures


if __name__ == "__main__":
    raise SystemExit(main())
