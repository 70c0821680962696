"""What ``claimedit diff`` costs next to ``claimedit check``, over the same claims with charges.

    python -m bench.impact sample --lines 20000 --out sample.jsonl   # claims with charges
    python -m bench.impact run --lines 1000000 --repeats 3           # the side-by-side figure

``sample`` writes the benchmark's synthetic claims (:mod:`bench.generate`) with a billed charge on
most lines (synthetic amounts by code and component, 1 line in 20 without a charge), for trying
``claimedit diff --html`` on something bigger than ``examples/claims.jsonl``.

``run`` times, as subprocesses over one file and interleaved round by round (a busy neighbour
slows both commands of a round, not one), ``claimedit check FILE --format jsonl`` and
``claimedit diff --old igrt --new <copy> FILE --format json``, where the copy switches the
TC-into-IMRT edit off for commercial claims (so the diff has real groups to build). It prints
each command's best time, lines/s and peak RSS (the child's ``VmHWM``, polled), and the ratio
diff / check. Both commands run the same library and pack, from ``PYTHONPATH`` or the install.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import claims_for_lines, encode
from bench.run import peak_rss_bytes
from claimedit.pack import packaged_rules_path

__all__ = ["main", "write_sample"]

# Synthetic list prices (not policy facts, not any payer's fee schedule): round figures of the
# order of magnitude of radiation oncology charges, so that the money columns have something in
# them. Codes not listed get a price from their hash.
_PRICES = {
    "77385": 520, "77386": 520, "G6015": 540, "G6016": 540, "77387": 140, "G6001": 160,
    "G6002": 110, "77014": 170, "G6017": 90, "77402": 240, "77407": 320, "77412": 380,
}


def _charge(code: str, modifiers: Sequence[str], key: bytes) -> str | None:
    digest = hashlib.sha256(key).digest()
    if digest[0] < 13:  # about 1 line in 20 arrives without a charge
        return None
    base = _PRICES.get(code.strip().upper(), 40 + digest[1] * 2)
    share = 0.3 if "26" in modifiers else 0.7 if "TC" in modifiers else 1.0
    cents = round(base * share * 100) + digest[2]
    return f"{cents // 100}.{cents % 100:02d}"


def write_sample(path: Path, total_lines: int) -> tuple[int, int]:
    """Write claims totalling ``total_lines`` lines, most with a charge; (claims, lines)."""
    claims = lines = 0
    with open(path, "wb") as out:
        for claim in claims_for_lines(total_lines):
            for line in claim["lines"]:
                lines += 1
                charge = _charge(str(line["code"]), line.get("modifiers") or (),
                                 f"{claim['claim_id']}/{lines}".encode())
                if charge is not None:
                    line["charge"] = charge
            claims += 1
            out.write(encode(claim) + b"\n")
    return claims, lines


def changed_pack(target: Path) -> Path:
    """A copy of the packaged pack whose TC-into-IMRT edit no longer applies to commercial."""
    shutil.copytree(packaged_rules_path(), target)
    policy = target / "edits" / "2025-policy.yaml"
    text = policy.read_text(encoding="utf-8")
    anchor = "    components: [technical, global]\n    modifier_indicator: 0\n"
    if anchor not in text:
        raise RuntimeError("the TC-into-IMRT edit has moved: update bench/impact.py")
    policy.write_text(text.replace(anchor, anchor.replace(
        "    modifier_indicator", "    payers: [medicare, medicaid]\n    modifier_indicator"), 1),
        encoding="utf-8")
    return target


def _time(command: list[str]) -> dict[str, Any]:
    peak = 0
    done = threading.Event()

    def watch(pid: int) -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, peak_rss_bytes(pid) or 0)

    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        watcher = threading.Thread(target=watch, args=(process.pid,), daemon=True)
        watcher.start()
        _, status, _ = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited {code}: {err.read()[:500]!r}")
    return {"seconds": seconds, "peak_rss_mb": peak / 1e6}


def run(lines: int, repeats: int, extra: Sequence[str] = ()) -> str:
    """Time check and diff side by side; ``extra`` packs (e.g. ``ncci-radonc``) are evaluated
    with the IGRT pack on both sides (and by check)."""
    cli = [sys.executable, "-m", "claimedit"]
    rules = [arg for pack in extra for arg in ("--rules", pack)]
    old = [arg for pack in ("igrt", *extra) for arg in ("--old", pack)]
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "claims.jsonl"
        claims, total = write_sample(sample, lines)
        new = changed_pack(Path(folder) / "igrt-changed")
        new_args = [arg for pack in (str(new), *extra) for arg in ("--new", pack)]
        commands = {
            "check": [*cli, "check", str(sample), "--format", "jsonl",
                      *(["--rules", "igrt", *rules] if extra else [])],
            "diff": [*cli, "diff", *old, *new_args, str(sample), "--format", "json"],
        }
        best: dict[str, dict[str, Any]] = {}
        for _ in range(repeats):
            for name, command in commands.items():
                figure = _time(command)
                kept = best.get(name)
                if kept is None or figure["seconds"] < kept["seconds"]:
                    best[name] = {**figure, "peak_rss_mb": max(
                        figure["peak_rss_mb"], kept["peak_rss_mb"] if kept else 0)}
    out = [f"{claims:,} claims, {total:,} lines; best of {repeats} interleaved rounds; "
           f"load average {os.getloadavg()[0]:.1f} at the end"]
    for name, figure in best.items():
        out.append(f"  {name:<6} {figure['seconds']:6.2f} s  {total / figure['seconds']:>9,.0f} "
                   f"lines/s  peak RSS {figure['peak_rss_mb']:.1f} MB")
    out.append(f"  diff / check: {best['diff']['seconds'] / best['check']['seconds']:.2f}x")
    out += [f"  {name}: {' '.join(command[1:])}" for name, command in commands.items()]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.impact", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="write synthetic claims with charges")
    sample.add_argument("--lines", type=int, default=20_000)
    sample.add_argument("--out", type=Path, required=True)
    timing = commands.add_parser("run", help="time claimedit diff against claimedit check")
    timing.add_argument("--lines", type=int, default=1_000_000)
    timing.add_argument("--repeats", type=int, default=3)
    timing.add_argument("--with", dest="extra", action="append", default=[], metavar="PACK",
                        help="another pack evaluated with igrt on both sides (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "sample":
        claims, lines = write_sample(args.out, args.lines)
        print(f"{args.out}: {claims:,} claims, {lines:,} lines")
    else:
        print(run(args.lines, args.repeats, args.extra))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
