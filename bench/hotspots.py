"""Where the time goes in figures (a) and (b) of the benchmark: stage costs and cProfile.

    python -m bench.hotspots [--what stages|engine|e2e|lean|all] [--lines 50000] [--top 25]
                             [--sort tottime|cumtime] [--dump DIR]

``stages`` times each stage of the end-to-end path alone, without a profiler, in ns per claim
line (best of 7): what each would cost if it were the only work.
``engine`` profiles (a), ``Engine.evaluate`` over validated claims; ``e2e`` profiles (b), the
``claimedit check --format jsonl`` pipeline in process; ``lean`` profiles (b'). cProfile adds a
fixed cost to every Python call, so it inflates code made of many small calls: read the shares
and the call counts, not the absolute times. ``--dump`` writes ``.prof`` files for snakeviz or
``python -m pstats``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/hotspots.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import SEED, claims_for_lines, encode
from bench.run import DiscardIO, cli_in_process, engine_only, lean_end_to_end, result_serialiser
from claimedit import Claim, Engine, load_engine
from claimedit.inputs import read_records
from claimedit.outputs import Summary


def profile(name: str, work: Callable[[], object], top: int, sort: str, dump: Path | None) -> str:
    work()  # once unprofiled: imports, caches and memos warm, as in the benchmark's best run
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(dump / f"{name}.prof")
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    return text.getvalue()


def stages(engine: Engine, records: list[bytes], lines: int) -> str:
    """ns per claim line of each stage of ``claimedit check --format jsonl``, alone."""
    claims = [Claim.model_validate_json(record) for record in records]
    results = [engine.evaluate(claim) for claim in claims]
    to_json = result_serialiser()
    texts = [to_json(result) for result in results]
    document = "".join(record.decode() + "\n" for record in records)

    def read() -> None:
        for _ in read_records(io.StringIO(document), "sample.jsonl", "jsonl"):
            pass

    def validate() -> None:
        for record in records:
            Claim.model_validate_json(record)

    def evaluate() -> None:
        engine_only(engine, claims)

    def serialise() -> None:
        for result in results:
            to_json(result)

    def write() -> None:
        out = io.TextIOWrapper(io.BufferedWriter(DiscardIO(), 1 << 16), encoding="utf-8")
        for text in texts:
            out.write(text + "\n")
        out.flush()

    def count() -> None:
        summary = Summary()
        for result in results:
            summary.add(result)

    work = [("read JSON Lines (inputs.read_records)", read),
            ("validate (Claim.model_validate_json)", validate),
            ("evaluate (Engine.evaluate)", evaluate),
            ("serialise (ClaimResult.to_json)", serialise),
            ("write + encode (TextIOWrapper)", write),
            ("count (outputs.Summary.add)", count)]
    out = [f"{'stage':<42} {'ns/line':>8}"]
    total = 0.0
    for name, run in work:
        best = float("inf")
        for _ in range(7):
            gc.collect()
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        total += best
        out.append(f"{name:<42} {best / lines * 1e9:>8.0f}")
    out.append(f"{'sum of the stages':<42} {total / lines * 1e9:>8.0f}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hotspots", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--what", choices=("stages", "engine", "e2e", "lean", "all"),
                        default="all")
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", choices=("tottime", "cumtime"), default="tottime")
    parser.add_argument("--dump", type=Path, help="write <what>.prof files into this folder")
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):  # one core, as the benchmark
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    engine = load_engine()
    records = [encode(claim) for claim in claims_for_lines(args.lines, SEED)]
    claims = [Claim.model_validate_json(record) for record in records]
    if args.what in ("stages", "all"):
        print(f"==== stages: {len(claims):,} claims, {args.lines:,} lines ====")
        print(stages(engine, records, args.lines), end="\n\n")
    with tempfile.TemporaryDirectory(prefix="claimedit-profile-") as tmp:
        path = Path(tmp) / "sample.jsonl"
        path.write_bytes(b"".join(record + b"\n" for record in records))
        work: dict[str, Callable[[], object]] = {
            "engine": lambda: engine_only(engine, claims),
            "e2e": lambda: cli_in_process(path, len(claims), args.lines),
            "lean": lambda: lean_end_to_end(engine, records),
        }
        for name, run in work.items():
            if args.what in (name, "all"):
                print(f"==== {name}: {len(claims):,} claims, {args.lines:,} lines ====")
                print(profile(name, run, args.top, args.sort, args.dump))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
