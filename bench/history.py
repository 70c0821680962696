"""Claim history benchmark (issue 12): what ``--history`` costs, and how fast a look-up is.

    python -m bench.history                       # 1,000,000 lines, SQLite; about 5 minutes
    python -m bench.history --lines 100000 --stored 100000     # a quick run
    python -m bench.history --postgres postgresql://user:pw@localhost/db   # and PostgreSQL
    python -m bench.history --lines 200000 --stored 0 --baseline ../before/src  # before/after

Figures, each against a baseline measured in the same run (a shared machine: ratios, not
absolute figures, are what carries over):

(h1) ``claimedit check FILE --format jsonl`` as a subprocess, without and with
     ``--history NEW.sqlite``, interleaved: lines/s (wall and CPU), the ratio, peak RSS.
(h2) a store holding ``--stored`` claims (SQLite): the look-up of one claim's days (p50, p99,
     p99.9 over 20,000 look-ups, half of them finding the patient's claims), and a whole
     ``engine.evaluate(claim, history=store)`` (one transaction: look-up, record, commit).
(h3) with ``--postgres``: the CLI over the file with the store in PostgreSQL, one process, and
     two processes each judging half of the file at once on the same database; and the look-up
     with ``--stored`` claims in PostgreSQL.

The claims are bench/generate.py's, with a patient and billing provider each: 15 % of the claims
are a second claim of a patient on the same days as a recent claim (a split bill or a late
charge: history finds it and judges both again), the rest are patients drawn from a pool of
200,000 at 2,000 providers, on the generator's dates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.generate import SEED, claims_for_lines
from bench.run import peak_rss_bytes

ROOT = Path(__file__).resolve().parents[1]
_SPLIT_BILLS = 0.15
_PATIENTS = 200_000
_PROVIDERS = 2_000


def history_claims(total_lines: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """The generator's claims with patient and provider ids (see the module's description)."""
    rng = random.Random(seed + 12)
    recent: list[dict[str, Any]] = []
    for claim in claims_for_lines(total_lines, seed):
        if recent and rng.random() < _SPLIT_BILLS:
            other = rng.choice(recent)
            claim["patient_id"], claim["provider_id"] = other["patient_id"], other["provider_id"]
            claim["payer"] = other["payer"]
            days = sorted({line["date_of_service"] for line in other["lines"]})
            for line in claim["lines"]:
                line["date_of_service"] = rng.choice(days)
        else:
            claim["patient_id"] = f"MBR{rng.randrange(_PATIENTS):08d}"
            claim["provider_id"] = str(1_000_000_000 + rng.randrange(_PROVIDERS))
            recent.append(claim)
            if len(recent) > 1000:
                recent.pop(0)
        yield claim


def write_claims(path: Path, total_lines: int) -> int:
    claims = 0
    with path.open("w", encoding="utf-8") as handle:
        for claim in history_claims(total_lines):
            handle.write(json.dumps(claim) + "\n")
            claims += 1
    return claims


def _env(src: Path | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(src or ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}


def cli_runs(arguments: Sequence[Sequence[str]], src: Path | None = None) -> list[dict[str, Any]]:
    """Run ``claimedit`` subprocesses at once (one each), output to /dev/null; per process:
    wall and CPU seconds, peak RSS, and the summary line it printed. ``src``: the claimedit
    source tree to run (default this checkout's)."""
    started = []
    for args in arguments:
        err = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the process is read
        process = subprocess.Popen([sys.executable, "-m", "claimedit", *args],
                                   stdout=subprocess.DEVNULL, stderr=err, env=_env(src))
        started.append((process, err, time.perf_counter()))
    peaks = dict.fromkeys([process.pid for process, _, _ in started], 0)
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            for pid in peaks:
                peaks[pid] = max(peaks[pid], peak_rss_bytes(pid) or 0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = []
    for process, err, start in started:
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode(errors="replace")
        err.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"claimedit {' '.join(arguments[0])} failed: {text[-500:]}")
        out.append({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                    "pid": process.pid, "summary": text.strip().splitlines()[-1]})
    done.set()
    watcher.join()
    for item in out:
        item["peak_rss_mb"] = round(peaks[item.pop("pid")] / 1e6, 1)
    return out


def _fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def h1(path: Path, lines: int, repeats: int, work: Path,
       baseline: Path | None = None) -> dict[str, Any]:
    rounds = []
    for _ in range(repeats):
        plain = cli_runs([["check", str(path), "--format", "jsonl"]])[0]
        store = _fresh(work / "h1.sqlite")
        history = cli_runs([["check", str(path), "--format", "jsonl", "--history", str(store)]])[0]
        history["store_mb"] = round(store.stat().st_size / 1e6, 1)
        rounds.append({"plain": plain, "history": history})
        if baseline is not None:  # the same, with another checkout's claimedit: before/after
            store = _fresh(work / "h1.sqlite")
            rounds[-1]["baseline_history"] = cli_runs(
                [["check", str(path), "--format", "jsonl", "--history", str(store)]], baseline)[0]
    best_plain = min(r["plain"]["wall_s"] for r in rounds)
    best_history = min(r["history"]["wall_s"] for r in rounds)
    cpu_plain = min(r["plain"]["cpu_s"] for r in rounds)
    cpu_history = min(r["history"]["cpu_s"] for r in rounds)
    out = {
        "rounds": rounds,
        "plain_lines_per_s": lines / best_plain,
        "history_lines_per_s": lines / best_history,
        "ratio_wall": best_plain / best_history,
        "ratio_cpu": cpu_plain / cpu_history,
    }
    if baseline is not None:
        out["baseline"] = str(baseline)
        out["baseline_ratio_wall"] = best_plain / min(
            r["baseline_history"]["wall_s"] for r in rounds)
        out["baseline_ratio_cpu"] = cpu_plain / min(
            r["baseline_history"]["cpu_s"] for r in rounds)
    return out


def _stored_claims(count: int, seed: int) -> Iterator[Any]:
    """``count`` stored claims (StoredClaim) for a look-up store: 1-3 days, 1-8 lines."""
    from claimedit import Decision
    from claimedit.history import StoredClaim, StoredLine

    rng = random.Random(seed)
    first = dt.date(2024, 1, 1).toordinal()
    for number in range(count):
        day = dt.date.fromordinal(first + rng.randrange(1000))
        days = [day + dt.timedelta(days=offset) for offset in range(rng.choice((1, 1, 2, 3)))]
        lines = tuple(
            StoredLine(position, str(position), rng.choice(("77385", "G6001", "99213", "77014")),
                       rng.choice(((), ("TC",), ("26",))), 1, rng.choice(days), Decision.ALLOW,
                       ())
            for position in range(1, rng.randint(1, 8) + 1))
        yield StoredClaim(f"MBR{rng.randrange(count // 4 + 1):08d}",
                          str(1_000_000_000 + rng.randrange(_PROVIDERS)), f"ST-{number:08d}",
                          "1", "commercial", None, "professional", lines)


def fill(store: Any, count: int, seed: int = SEED) -> list[Any]:
    """Store ``count`` claims, 10,000 to a transaction; returns a sample of them (1 in 50)."""
    sample = []
    batch: list[Any] = []

    def work(session: Any) -> None:
        for claim in batch:
            session.add(claim)

    for claim in _stored_claims(count, seed):
        batch.append(claim)
        if len(sample) < 20_000 and random.random() < 0.02:
            sample.append(claim)
        if len(batch) == 10_000:
            store.transact(work)
            batch = []
    if batch:
        store.transact(work)
    return sample


def _percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    def at(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))] * 1e3
    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "p999_ms": at(0.999),
            "mean_ms": statistics.fmean(samples) * 1e3, "n": len(samples)}


def look_ups(store: Any, sample: list[Any], count: int = 20_000) -> dict[str, Any]:
    """Time ``session.look_up`` alone (inside one read transaction per 1,000), half on stored
    patients' days and half on patients never seen."""
    rng = random.Random(7)
    probes = []
    for number in range(count):
        if number % 2 and sample:
            claim = rng.choice(sample)
            probes.append((claim.patient_id, claim.provider_id, f"NEW-{number}",
                           {line.date_of_service for line in claim.lines}))
        else:
            probes.append((f"UNSEEN{number:08d}", "1999999999", f"NEW-{number}",
                           {dt.date(2025, 3, 3)}))
    timings: list[float] = []
    found = 0

    def work(session: Any) -> None:
        nonlocal found
        for patient, provider, claim_id, days in chunk:
            start = time.perf_counter()
            _, same_day = session.look_up(patient, provider, claim_id, days)
            timings.append(time.perf_counter() - start)
            found += bool(same_day)

    for offset in range(0, len(probes), 1000):
        chunk = probes[offset:offset + 1000]
        store.transact(work)
    return {**_percentiles(timings), "found": found}


def evaluations(store: Any, count: int = 2_000) -> dict[str, Any]:
    """Time ``engine.evaluate(claim, history=store)``: one transaction per claim."""
    import claimedit

    engine = claimedit.load_engine()
    timings = []
    for number, claim in enumerate(history_claims(count * 5, seed=SEED + 99)):
        if number >= count:
            break
        claim["claim_id"] = f"EV-{uuid.uuid4().hex[:8]}"
        parsed = claimedit.Claim.model_validate(claim)
        start = time.perf_counter()
        engine.evaluate(parsed, history=store)
        timings.append(time.perf_counter() - start)
    return _percentiles(timings)


def h2(stored: int, work: Path) -> dict[str, Any]:
    from claimedit.history import SqliteHistory

    path = _fresh(work / "h2.sqlite")
    store = SqliteHistory(path)
    start = time.perf_counter()
    sample = fill(store, stored)
    filled = time.perf_counter() - start
    out = {"stored_claims": stored, "fill_s": round(filled, 1),
           "store_mb": round(path.stat().st_size / 1e6, 1),
           "look_up": look_ups(store, sample), "evaluate": evaluations(store)}
    store.close()
    return out


def h3(url: str, path: Path, lines: int, stored: int) -> dict[str, Any]:
    import psycopg

    from claimedit.history import PostgresHistory

    def schema_url() -> tuple[str, str]:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in url else "?"
        return schema, f"{url}{separator}options=-csearch_path%3D{schema}"

    def drop(schema: str) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")

    out: dict[str, Any] = {"lines": lines}
    halves = [path.with_suffix(".half1.jsonl"), path.with_suffix(".half2.jsonl")]
    records = path.read_text("utf-8").splitlines(keepends=True)
    halves[0].write_text("".join(records[0::2]), "utf-8")
    halves[1].write_text("".join(records[1::2]), "utf-8")

    schema, where = schema_url()
    try:
        one = cli_runs([["check", str(path), "--format", "jsonl", "--history", where]])[0]
        out["one_process"] = {**one, "lines_per_s": lines / one["wall_s"]}
    finally:
        drop(schema)
    schema, where = schema_url()
    try:
        start = time.perf_counter()
        two = cli_runs([["check", str(half), "--format", "jsonl", "--history", where]
                        for half in halves])
        wall = time.perf_counter() - start
        out["two_processes"] = {"runs": two, "wall_s": wall, "lines_per_s": lines / wall}
    finally:
        drop(schema)
    if stored:
        schema, where = schema_url()
        try:
            store = PostgresHistory(where)
            start = time.perf_counter()
            sample = fill(store, stored)
            filled = round(time.perf_counter() - start, 1)
            out["stored"] = {"stored_claims": stored, "fill_s": filled}
            with psycopg.connect(where, autocommit=True) as db:
                db.execute("ANALYZE")
            out["stored"]["look_up"] = look_ups(store, sample, 5_000)
            out["stored"]["evaluate"] = evaluations(store, 1_000)
            store.close()
        finally:
            drop(schema)
    return out


def report(data: dict[str, Any]) -> str:
    rows = [f"claim history benchmark, commit {data['commit']}, {data['lines']:,} lines "
            f"({data['claims']:,} claims), load average before {data['load_before']}"]
    if "h1" in data:
        h = data["h1"]
        best = h["rounds"][0]
        rows.append(
            f"(h1) check without history {h['plain_lines_per_s']:,.0f} lines/s, with --history "
            f"SQLite {h['history_lines_per_s']:,.0f} lines/s: ratio {h['ratio_wall']:.2f} (wall), "
            f"{h['ratio_cpu']:.2f} (CPU); peak RSS {best['plain']['peak_rss_mb']} MB without, "
            f"{best['history']['peak_rss_mb']} MB with; store {best['history']['store_mb']} MB")
        if "baseline" in h:
            rows.append(
                f"     baseline {h['baseline']}: ratio {h['baseline_ratio_wall']:.2f} (wall), "
                f"{h['baseline_ratio_cpu']:.2f} (CPU); peak RSS "
                f"{best['baseline_history']['peak_rss_mb']} MB")
    if "h2" in data:
        h = data["h2"]
        lu, ev = h["look_up"], h["evaluate"]
        rows.append(
            f"(h2) {h['stored_claims']:,} claims stored ({h['store_mb']} MB, filled in "
            f"{h['fill_s']} s): look-up p50 {lu['p50_ms']:.3f} ms, p99 {lu['p99_ms']:.3f} ms, "
            f"p99.9 {lu['p999_ms']:.3f} ms ({lu['found']:,} of {lu['n']:,} found claims); "
            f"evaluate with history (one transaction) p50 {ev['p50_ms']:.3f} ms, "
            f"p99 {ev['p99_ms']:.3f} ms")
    if "h3" in data:
        h = data["h3"]
        rows.append(
            f"(h3) PostgreSQL: one process {h['one_process']['lines_per_s']:,.0f} lines/s; two "
            f"processes on one database {h['two_processes']['lines_per_s']:,.0f} lines/s together")
        if "stored" in h:
            lu, ev = h["stored"]["look_up"], h["stored"]["evaluate"]
            rows.append(
                f"     {h['stored']['stored_claims']:,} claims stored: look-up p50 "
                f"{lu['p50_ms']:.3f} ms, p99 {lu['p99_ms']:.3f} ms; evaluate with history p50 "
                f"{ev['p50_ms']:.3f} ms, p99 {ev['p99_ms']:.3f} ms")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--stored", type=int, default=1_000_000,
                        help="claims in the look-up store (0: skip h2)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of h1 (best is kept)")
    parser.add_argument("--postgres", metavar="URL", help="also run h3 against this server")
    parser.add_argument("--postgres-lines", type=int, default=100_000)
    parser.add_argument("--postgres-stored", type=int, default=0)
    parser.add_argument("--skip-cli", action="store_true", help="skip h1")
    parser.add_argument("--baseline", type=Path, metavar="SRC",
                        help="h1 also with the claimedit of this source tree (another "
                             "checkout's src/, e.g. from git archive), interleaved: before/after")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core (default: last)")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/history-...)")
    args = parser.parse_args(argv)

    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1] if args.cpu is None else args.cpu
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})  # the CLI subprocesses inherit it
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=10", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    data: dict[str, Any] = {"commit": commit, "lines": args.lines, "pinned_cpu": cpu,
                            "load_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "claims.jsonl"
        data["claims"] = write_claims(path, args.lines)
        if not args.skip_cli:
            data["h1"] = h1(path, args.lines, args.repeats, work, args.baseline)
            print(report(data), flush=True)
        if args.stored:
            data["h2"] = h2(args.stored, work)
        if args.postgres:
            pg_path = work / "pg.jsonl"
            write_claims(pg_path, args.postgres_lines)
            os.sched_setaffinity(0, set(cpus))  # two processes: two cores
            data["h3"] = h3(args.postgres, pg_path, args.postgres_lines, args.postgres_stored)
    data["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(report(data))
    out = args.out or ROOT / "bench" / "results" / f"history-{commit}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, default=str), "utf-8")
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
