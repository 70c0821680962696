"""The claimedit benchmark: every performance figure in one run, side by side.

    python -m bench.run [--quick] [--skip-cli] [--out bench/results/NAME.json] [--compare OLD.json]

Figures, all over the same synthetic claims (``bench/generate.py``, fixed seed):

(a) engine only: validated :class:`claimedit.Claim` objects in, ``Engine.evaluate`` results out.
(b) end to end: the ``claimedit check --format jsonl`` pipeline run in this process over the
    JSON Lines file (read, parse, validate, evaluate, serialise, encode; output discarded), net
    of its fixed cost per run (arguments, loading the rule pack: the same run on a one-line file).
    (b') is the leanest path the library offers today, for reference: ``Claim.model_validate_json``
    per record, ``evaluate``, ``ClaimResult.to_json()`` (or ``json.dumps(to_dict())``), encoded.
(c) the floor: ``Claim.model_validate_json`` of the same records, nothing else.
(d) zen-engine deciding the same lines from a decision table built from the same rule pack
    (``bench/zen_igrt.py``), in every mode it offers; the best is the baseline. Its decisions
    are checked against claimedit's, line by line.
(e) latency of ``Engine.evaluate`` on one validated 4-line claim: p50 / p99 of single calls.
(f) ``claimedit check FILE --format jsonl > /dev/null`` as a subprocess over a 1,000,000-line
    file: peak RSS (the child's own high-water mark) and lines/s, start-up included.

Everything runs pinned to one core (``--cpu``; the CLI child inherits it). Throughputs are the
best of ``--repeats`` runs, interleaved so that a noisy neighbour on a shared machine slows every
figure alike rather than one. Lines are claim lines, not JSON Lines records. The figures, the
machine, the Python and package versions and the git commit go to a JSON file in
``bench/results/`` for comparison across commits.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import importlib.metadata
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import SEED, claims_for_lines, encode, write_jsonl
from claimedit import Claim, ClaimResult, Engine, load_engine
from claimedit.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SCRATCH = REPO / "bench" / "out"  # gitignored: --quick runs are a look, not a record

# The latency claim (e): a day of IMRT with split-billed image guidance and an office visit;
# it exercises the same-day context and a bundling edit, the engine's costliest path.
LATENCY_CLAIM: dict[str, Any] = {
    "claim_id": "LAT-1", "payer": "commercial", "state": "OH", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-03-03"},
        {"line_id": "2", "code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-03"},
        {"line_id": "3", "code": "G6001", "modifiers": ["26"], "date_of_service": "2025-03-03"},
        {"line_id": "4", "code": "99213", "date_of_service": "2025-03-03"},
    ],
}

# Per-call zen modes cost ~100 us a line: a slice of the sample is enough to rate them.
ZEN_PER_CALL_LINES = 5_000


@dataclass
class Settings:
    lines: int
    repeats: int
    latency_calls: int
    latency_rounds: int
    cli_lines: int
    cli_repeats: int
    skip_cli: bool
    skip_zen: bool
    zen_chunk: int
    cpu: int | None
    seed: int
    rules: tuple[str, ...] = ()
    """The packs to load (names or directories); empty: the default IGRT pack."""


@dataclass
class Timed:
    """One throughput figure: the work of one run, and the seconds of each run."""

    label: str
    lines: int
    run: Callable[[], object]
    seconds: list[float] = field(default_factory=list)
    check: Callable[[Any], None] | None = None
    """Called with the first run's output (e.g. to compare decisions), which is then dropped:
    live objects kept across rounds would make every later collection of the GC slower."""

    @property
    def rate(self) -> float:
        return self.lines / min(self.seconds)


# -- the pieces of work ---------------------------------------------------------------------------


class DiscardIO(io.RawIOBase):
    """A byte sink standing in for /dev/null that counts what the CLI wrote."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(data)
        self.written += size
        return size


def _rules_args(rules: Sequence[str]) -> list[str]:
    return [arg for pack in rules for arg in ("--rules", pack)]


def cli_in_process(path: Path, claims: int, lines: int, rules: Sequence[str] = ()) -> int:
    """Run ``claimedit check PATH --format jsonl`` in this process; returns the bytes written.

    The real CLI code path, so that any change to it shows here; its output is encoded to UTF-8
    as it would be for a pipe, then dropped.
    """
    sink = DiscardIO()
    out = io.TextIOWrapper(io.BufferedWriter(sink, 1 << 16), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli_main(["check", str(path), "--format", "jsonl", *_rules_args(rules)])
    out.flush()
    expected = f"{claims} claim{'s' * (claims != 1)}, {lines} line{'s' * (lines != 1)}"
    if status != 0 or expected not in err.getvalue():
        raise RuntimeError(f"claimedit check failed ({status}): {err.getvalue()[:500]}")
    return sink.written


def result_serialiser() -> Callable[[ClaimResult], str]:
    # ClaimResult.to_json is the library's fast serialiser; commits before it only had to_dict,
    # and the benchmark must still run there to compare figures across commits.
    method = getattr(ClaimResult, "to_json", None)
    if method is not None:
        return method  # type: ignore[no-any-return]
    return lambda result: json.dumps(result.to_dict(), separators=(",", ":"))


def lean_end_to_end(engine: Engine, records: Sequence[bytes]) -> None:
    validate = Claim.model_validate_json
    evaluate = engine.evaluate
    to_json = result_serialiser()
    for record in records:
        to_json(evaluate(validate(record))).encode()


def validate_only(records: Sequence[bytes]) -> None:
    validate = Claim.model_validate_json
    for record in records:
        validate(record)


def engine_only(engine: Engine, claims: Sequence[Claim]) -> None:
    evaluate = engine.evaluate
    for claim in claims:
        evaluate(claim)


def latency(engine: Engine, claim: Claim, calls: int, rounds: int) -> dict[str, Any]:
    """p50 / p99 of single ``evaluate`` calls; the round with the best p99 is kept."""
    evaluate = engine.evaluate
    clock = time.perf_counter_ns
    for _ in range(max(1_000, calls // 10)):  # warm caches and the allocator
        evaluate(claim)
    gaps = []
    for _ in range(10_001):  # what the clock itself adds to each sample
        start = clock()
        gaps.append(clock() - start)
    overhead = sorted(gaps)[5_000]
    best: dict[str, Any] | None = None
    every = []
    for _ in range(rounds):
        samples = [0] * calls
        gc.collect()
        for i in range(calls):
            start = clock()
            evaluate(claim)
            samples[i] = clock() - start
        samples.sort()
        figures = {
            "p50_us": samples[calls // 2] / 1e3,
            "p99_us": samples[int(calls * 0.99)] / 1e3,
            "p999_us": samples[int(calls * 0.999)] / 1e3,
            "max_us": samples[-1] / 1e3,
        }
        every.append(figures)
        if best is None or figures["p99_us"] < best["p99_us"]:
            best = figures
    assert best is not None
    return {**best, "calls": calls, "rounds": every, "timer_overhead_us": overhead / 1e3,
            "claim_lines": len(claim.lines)}


def peak_rss_bytes(pid: int) -> int | None:
    """The peak resident set of a live process's own address space (Linux ``VmHWM``)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for row in status:
                if row.startswith(b"VmHWM:"):
                    return int(row.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def cli_subprocess(path: Path, lines: int, rules: Sequence[str] = ()) -> dict[str, Any]:
    """Run the installed ``claimedit check`` on ``path`` with stdout to /dev/null.

    Peak RSS is the child's ``VmHWM``, polled: a high-water mark, so polling misses nothing but
    the last few milliseconds. Not ``ru_maxrss``: Linux carries the parent's high-water mark
    through fork and exec, so the child would report this benchmark's own few hundred MB.
    """
    script = Path(sys.executable).with_name("claimedit")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from claimedit.cli import main; sys.exit(main())"
    ]
    command += ["check", str(path), "--format", "jsonl", *_rules_args(rules)]
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
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if process.returncode != 0 or f"{lines} lines" not in stderr:
        raise RuntimeError(f"claimedit check failed ({process.returncode}): {stderr[:500]}")
    return {"seconds": seconds, "lines_per_s": lines / seconds, "peak_rss_mb": peak / 1e6,
            "user_s": usage.ru_utime, "system_s": usage.ru_stime, "command": " ".join(command)}


# -- the run --------------------------------------------------------------------------------------


def _measure(figures: list[Timed], repeats: int) -> None:
    """Best of ``repeats``, each figure timed once per round so that noise spreads evenly."""
    for round_ in range(repeats):
        for figure in figures:
            gc.collect()
            start = time.perf_counter()
            output = figure.run()
            figure.seconds.append(time.perf_counter() - start)
            if round_ == 0 and figure.check is not None:
                figure.check(output)
            del output
        done = [f"{f.label.split()[0]} {f.lines / f.seconds[-1]:,.0f}" if f.lines > 1
                else f"{f.label.split()[0]} {f.seconds[-1] * 1e3:.0f} ms" for f in figures]
        print(f"  round {round_ + 1}/{repeats}: " + ", ".join(done), file=sys.stderr)


# A line's decision and the rules that fired, comparable between claimedit and zen.
_Verdict = tuple[str, tuple[str, ...]]


def _agreement(expected: Sequence[_Verdict], zen_rows: Sequence[list[dict[str, Any]]]
               ) -> dict[str, Any]:
    from bench.zen_igrt import worst_decision

    ours = expected[: len(zen_rows)]
    theirs = [(worst_decision(rows), tuple(sorted(row["rule_id"] for row in rows)))
              for rows in zen_rows]
    differ = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    return {"lines": len(theirs), "agree": len(theirs) - len(differ),
            "first_differences": [{"line": i, "claimedit": ours[i], "zen": theirs[i]}
                                  for i in differ[:5]]}


def run(settings: Settings) -> dict[str, Any]:
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    engine = load_engine(list(settings.rules) or None)
    print(f"generating {settings.lines:,} claim lines (seed {settings.seed})...", file=sys.stderr)
    records = [encode(claim) for claim in claims_for_lines(settings.lines, settings.seed)]
    claims = [Claim.model_validate_json(record) for record in records]
    lines = sum(len(claim.lines) for claim in claims)
    results = [engine.evaluate(claim) for claim in claims]
    expected: list[_Verdict] = [(line.decision.value, tuple(sorted(line.rule_ids)))
                                for result in results for line in result.lines]
    sample = {
        "claims": len(claims), "lines": lines, "bytes": sum(len(r) + 1 for r in records),
        "payers": dict(Counter(claim.payer.value for claim in claims)),
        "years": dict(sorted(Counter(str(line.date_of_service.year)
                                     for claim in claims for line in claim.lines).items())),
        "decisions": dict(Counter(line.decision.value for r in results for line in r.lines)),
        "rules_fired": dict(Counter(rule for r in results for line in r.lines
                                    for rule in line.rule_ids).most_common()),
    }
    del results

    with tempfile.TemporaryDirectory(prefix="claimedit-bench-") as tmp:
        sample_file = Path(tmp) / "sample.jsonl"
        sample_file.write_bytes(b"".join(record + b"\n" for record in records))
        one_file = Path(tmp) / "one.jsonl"
        write_jsonl(one_file, 1, settings.seed)

        figures = [
            Timed("(a) engine only", lines, lambda: engine_only(engine, claims)),
            Timed("(b) end to end", lines,
                  lambda: cli_in_process(sample_file, len(claims), lines, settings.rules)),
            Timed("(b0) fixed cost", 1, lambda: cli_in_process(one_file, 1, 1, settings.rules)),
            Timed("(b') lean path", lines, lambda: lean_end_to_end(engine, records)),
            Timed("(c) pydantic floor", lines, lambda: validate_only(records)),
        ]
        zen_info: dict[str, Any] = {}
        zen_figures: dict[str, Timed] = {}
        agreement: dict[str, dict[str, Any]] = {}
        if len(engine.packs) > 1 and not settings.skip_zen:
            # The zen table is built from one pack: it cannot stand for a composition.
            zen_info = {"skipped": "zen's table is built from one pack; several are loaded"}
        elif not settings.skip_zen:
            zen_figures, zen_info = _zen_figures(engine, claims, settings)

            def compare_with_claimedit(mode: str) -> Callable[[Any], None]:
                def check(rows: Any) -> None:
                    agreement[mode] = _agreement(expected, rows)
                return check

            for mode, figure in zen_figures.items():
                figure.check = compare_with_claimedit(mode)
            figures += zen_figures.values()
        print(f"measuring throughput, best of {settings.repeats}...", file=sys.stderr)
        _measure(figures, settings.repeats)

    by_label = {figure.label.split()[0]: figure for figure in figures}
    # (b) is a throughput: the CLI's fixed cost per run (argument parsing, loading the rule
    # pack), measured on a one-line file, is taken out so the figure does not depend on the
    # sample size. (f) shows the fixed cost of a real process, start-up included.
    fixed = min(by_label["(b0)"].seconds)
    out: dict[str, Any] = {
        "engine_lines_per_s": by_label["(a)"].rate,
        "end_to_end_lines_per_s": lines / (min(by_label["(b)"].seconds) - fixed),
        "end_to_end_gross_lines_per_s": by_label["(b)"].rate,
        "cli_fixed_cost_s": fixed,
        "end_to_end_lean_lines_per_s": by_label["(b')"].rate,
        "pydantic_floor_lines_per_s": by_label["(c)"].rate,
    }
    if zen_figures:
        modes: dict[str, dict[str, Any]] = {
            mode: {"lines_per_s": fig.rate, "lines": fig.lines, "agreement": agreement[mode]}
            for mode, fig in zen_figures.items()
        }
        best = max(modes, key=lambda mode: float(modes[mode]["lines_per_s"]))
        out.update({"zen_best_lines_per_s": modes[best]["lines_per_s"], "zen_best_mode": best,
                    "zen_plain_lines_per_s": modes["plain"]["lines_per_s"], "zen_modes": modes,
                    "zen": zen_info})

    print(f"latency of one {len(LATENCY_CLAIM['lines'])}-line claim, "
          f"{settings.latency_calls:,} calls x {settings.latency_rounds}...", file=sys.stderr)
    out["latency"] = latency(engine, Claim.model_validate(LATENCY_CLAIM),
                             settings.latency_calls, settings.latency_rounds)

    if not settings.skip_cli:
        out["cli"] = _cli(settings)

    return {
        "schema": 1,
        "when": started.isoformat(timespec="seconds"),
        "git": _git(),
        "machine": _machine(settings, load_before),
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "build": " ".join(platform.python_build())},
        "packages": _packages(),
        "settings": settings.__dict__,
        "sample": sample,
        "figures": out,
        "targets": _targets(out),
    }


def _zen_figures(engine: Engine, claims: Sequence[Claim],
                 settings: Settings) -> tuple[dict[str, Timed], dict[str, Any]]:
    try:
        from bench.zen_igrt import MODES, IgrtTable, ZenRunner
    except ImportError:
        print("zen-engine is not installed (pip install -e '.[bench]'): skipping (d)",
              file=sys.stderr)
        return {}, {"skipped": "zen-engine not installed"}
    table = IgrtTable(engine.pack)
    inputs = table.inputs(claims)  # precomputed outside the timing: generous to zen
    runner = ZenRunner(table)
    figures = {}
    for mode in MODES:
        lines = inputs if mode.startswith("loop") else inputs[:ZEN_PER_CALL_LINES]
        figures[mode] = Timed(f"(d:{mode}) zen", len(lines),
                              runner.prepare(mode, lines, settings.zen_chunk))
    info = {"rows": table.rows, "inputs": list(inputs[0]),
            "loop_chunk_lines": settings.zen_chunk, "per_call_lines": ZEN_PER_CALL_LINES}
    return figures, info


def _cli(settings: Settings) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="claimedit-bench-cli-") as tmp:
        path = Path(tmp) / "claims-1m.jsonl"
        print(f"writing {settings.cli_lines:,} claim lines to {path}...", file=sys.stderr)
        claims, size = write_jsonl(path, settings.cli_lines, settings.seed)
        small = Path(tmp) / "one.jsonl"
        write_jsonl(small, 1, settings.seed)
        startup = min(cli_subprocess(small, 1, settings.rules)["seconds"] for _ in range(3))
        runs = []
        for n in range(settings.cli_repeats):
            print(f"  claimedit check over {settings.cli_lines:,} lines, run {n + 1}/"
                  f"{settings.cli_repeats}...", file=sys.stderr)
            runs.append(cli_subprocess(path, settings.cli_lines, settings.rules))
    best = max(runs, key=lambda r: r["lines_per_s"])
    return {**best, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "lines": settings.cli_lines,
            "claims": claims, "file_mb": size / 1e6, "startup_s": startup,
            "runs": [{k: r[k] for k in ("seconds", "peak_rss_mb")} for r in runs]}


# -- targets, report, context ---------------------------------------------------------------------

# (figure, how it is computed, comparison, target, unit); the targets, same-run ratios.
def _targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    a = figures["engine_lines_per_s"]
    rows: list[tuple[str, float | None, str, float, str]] = [
        ("(a) engine only, one core", a, ">=", 1_000_000, "lines/s"),
        ("(a) / (d) engine vs zen best mode",
         a / figures["zen_best_lines_per_s"] if "zen_best_lines_per_s" in figures else None,
         ">=", 6, "x"),
        ("(b) / (c) end to end vs pydantic floor",
         figures["end_to_end_lines_per_s"] / figures["pydantic_floor_lines_per_s"], ">=", 0.6, "x"),
        ("(e) p99, one 4-line claim", figures["latency"]["p99_us"], "<", 50, "us"),
        ("(f) CLI peak RSS, 1,000,000 lines",
         figures["cli"]["peak_rss_mb"] if "cli" in figures else None, "<", 150, "MB"),
        ("(f) CLI throughput, 1,000,000 lines",
         figures["cli"]["lines_per_s"] if "cli" in figures else None, ">=", 100_000, "lines/s"),
    ]
    out = []
    for name, value, op, target, unit in rows:
        passed = None if value is None else (value >= target if op == ">=" else value < target)
        out.append({"figure": name, "value": value, "op": op, "target": target, "unit": unit,
                    "ratio": None if value is None else value / target, "pass": passed})
    return out


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("us", "MB", "s"):
        return f"{value:,.1f} {unit}"
    return f"{value:,.0f}"


def report(data: dict[str, Any]) -> str:
    f = data["figures"]
    floor = f["pydantic_floor_lines_per_s"]
    zen = f.get("zen_best_lines_per_s")
    rows: list[tuple[str, float, str]] = [
        ("(a) engine only: validated claims in, results out", f["engine_lines_per_s"], ""),
        ("(b) end to end: claimedit check pipeline, in process", f["end_to_end_lines_per_s"],
         f"net of {f['cli_fixed_cost_s'] * 1e3:.0f} ms fixed cost"),
        ("(b') end to end, lean: validate_json, evaluate, to_json",
         f["end_to_end_lean_lines_per_s"], ""),
        ("(c) floor: Claim.model_validate_json alone", floor, ""),
    ]
    for mode, m in f.get("zen_modes", {}).items():
        mark = " (best)" if mode == f["zen_best_mode"] else " (plain)" if mode == "plain" else ""
        agree = m["agreement"]
        rows.append((f"(d) zen-engine {mode}{mark}", m["lines_per_s"],
                     f"agrees {agree['agree']:,}/{agree['lines']:,}"))
    if "cli" in f:
        rows.append(("(f) claimedit check subprocess, 1M lines", f["cli"]["lines_per_s"],
                     f"startup {f['cli']['startup_s']:.2f} s"))
    s = data["sample"]
    text = [f"sample: {s['claims']:,} claims, {s['lines']:,} lines, decisions {s['decisions']}",
            "", f"{'figure':<56} {'lines/s':>11} {'/ (c)':>7} {'/ (d)':>7}  note"]
    for name, rate, note in rows:
        vs_zen = f"{rate / zen:.2f}x" if zen else "-"
        text.append(f"{name:<56} {rate:>11,.0f} {rate / floor:>6.2f}x {vs_zen:>7}  {note}")
    lat = f["latency"]
    text.append(f"(e) latency, one {lat['claim_lines']}-line claim: p50 {lat['p50_us']:.1f} us, "
                f"p99 {lat['p99_us']:.1f} us, p99.9 {lat['p999_us']:.1f} us "
                f"({lat['calls']:,} calls, timer overhead {lat['timer_overhead_us']:.2f} us)")
    if "cli" in f:
        c = f["cli"]
        text.append(f"(f) CLI over {c['lines']:,} lines ({c['claims']:,} claims, "
                    f"{c['file_mb']:.0f} MB): {c['seconds']:.1f} s, "
                    f"peak RSS {c['peak_rss_mb']:.1f} MB")
    text += ["", f"{'target (same run)':<42} {'measured':>12} {'target':>14} {'ratio':>7}  result"]
    for t in data["targets"]:
        result = "SKIP" if t["pass"] is None else "PASS" if t["pass"] else "FAIL"
        ratio = "-" if t["ratio"] is None else f"{t['ratio']:.2f}"
        target = f"{t['op']} {_fmt(t['target'], t['unit'])}"
        value = _fmt(t["value"], t["unit"])
        text.append(f"{t['figure']:<42} {value:>12} {target:>14} {ratio:>7}  {result}")
    m = data["machine"]
    text += ["", f"machine: {m['cpu_model']}, {m['cpus']} CPUs (pinned to {m['pinned_cpu']}), "
             f"{m['memory_gb']} GB; load avg before {m['load_before']}; Python "
             f"{data['python']['version']}; git {data['git']['commit'][:10]}"
             f"{' (src/rules modified)' if data['git']['engine_dirty'] else ''}"]
    return "\n".join(text)


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """New figures against an earlier results file, figure by figure."""
    def flat(data: dict[str, Any]) -> dict[str, float]:
        f = data["figures"]
        out = {k: v for k, v in f.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
        out["latency_p50_us"] = f["latency"]["p50_us"]
        out["latency_p99_us"] = f["latency"]["p99_us"]
        if "cli" in f:
            out["cli_lines_per_s"] = f["cli"]["lines_per_s"]
            out["cli_peak_rss_mb"] = f["cli"]["peak_rss_mb"]
        return out

    before, after = flat(old), flat(new)
    lines = [f"compared with {old['git']['commit'][:10]} ({old['when']}):"]
    for key in after:
        if before.get(key):
            change = after[key] / before[key] - 1
            digits = 1 if abs(before[key]) >= 10 else 4  # seconds and microseconds
            lines.append(f"  {key:<34} {before[key]:>14,.{digits}f} -> "
                         f"{after[key]:>14,.{digits}f} {change:+7.1%}")
    return "\n".join(lines)


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    # Only changes to what is measured make the figures differ from the commit's.
    engine_dirty = bool(git("status", "--porcelain", "--untracked-files=no",
                            "--", "src", "rules", "pyproject.toml"))
    return {"commit": git("rev-parse", "HEAD") or "unknown",
            "branch": git("branch", "--show-current"), "engine_dirty": engine_dirty,
            "subject": git("log", "-1", "--format=%s")}


def _machine(settings: Settings, load_before: tuple[float, float, float]) -> dict[str, Any]:
    cpu_model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu_model = row.split(":", 1)[1].strip()
                break
    memory_gb: float | None = None
    try:
        import psutil  # type: ignore[import-untyped]  # the `bench` extra; no stubs needed

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return {"platform": platform.platform(), "cpu_model": cpu_model, "cpus": os.cpu_count(),
            "pinned_cpu": settings.cpu, "memory_gb": memory_gb,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def _packages() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("claimedit", "pydantic", "pydantic-core", "zen-engine", "psutil"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _default_out(data: dict[str, Any], quick: bool) -> Path:
    commit = data["git"]["commit"][:10]
    suffix = "-dirty" if data["git"]["engine_dirty"] else ""
    if quick:  # not a result to commit: kept out of the checkout's untracked files
        return SCRATCH / f"{commit}{suffix}-quick.json"
    return RESULTS / f"{commit}{suffix}.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run",
                                     description="The claimedit benchmark.")
    parser.add_argument("--quick", action="store_true",
                        help="a smaller sample, fewer repeats, no CLI run: a minute, for a look")
    parser.add_argument("--lines", type=int, help="claim lines in the sample (default 100,000)")
    parser.add_argument("--repeats", type=int, help="runs per throughput figure, best kept (5)")
    parser.add_argument("--skip-cli", action="store_true", help="skip (f), the 1M-line CLI run")
    parser.add_argument("--skip-zen", action="store_true", help="skip (d), zen-engine")
    parser.add_argument("--cli-lines", type=int, default=1_000_000)
    parser.add_argument("--cli-repeats", type=int, default=2)
    parser.add_argument("--zen-chunk", type=int, default=1_000,
                        help="lines per call in zen's loop modes")
    parser.add_argument("--cpu", type=int, default=None,
                        help="core to pin to (default: the last allowed one; -1: do not pin)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--rules", action="append", default=[], metavar="PACK",
                        help="a pack to load, name or directory (repeatable: packs evaluated "
                             "together; default: the packaged IGRT pack). zen (d) needs one pack")
    parser.add_argument("--out", type=Path,
                        help="results file (default: bench/results/<commit>.json; with "
                             "--quick, bench/out/<commit>-quick.json, which git ignores)")
    parser.add_argument("--compare", type=Path, help="an earlier results file to compare with")
    parser.add_argument("--check", action="store_true", help="exit 1 if any target fails")
    args = parser.parse_args(argv)

    cpu: int | None = args.cpu
    if cpu != -1 and hasattr(os, "sched_setaffinity"):
        cpu = max(os.sched_getaffinity(0)) if cpu is None else cpu
        os.sched_setaffinity(0, {cpu})  # children (the CLI run) inherit it
    else:
        cpu = None
    settings = Settings(
        lines=args.lines or (20_000 if args.quick else 100_000),
        repeats=args.repeats or (3 if args.quick else 5),
        latency_calls=50_000 if args.quick else 200_000,
        latency_rounds=3,
        cli_lines=args.cli_lines, cli_repeats=args.cli_repeats,
        skip_cli=args.skip_cli or args.quick, skip_zen=args.skip_zen, zen_chunk=args.zen_chunk,
        cpu=cpu, seed=args.seed, rules=tuple(args.rules),
    )
    data = run(settings)
    print(report(data))
    if args.compare:
        print()
        print(compare(json.loads(args.compare.read_text()), data))
    out = args.out or _default_out(data, args.quick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"\nfigures written to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    failed = any(t["pass"] is False for t in data["targets"])
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
