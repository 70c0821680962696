"""``claimedit check --history`` and ``claimedit history show|purge``.

The acceptance case runs the real CLI twice as subprocesses; the rest run ``main`` in process.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _history import claim, location, needs_postgres

from claimedit.cli import EXIT_ERROR, EXIT_INVALID, EXIT_OK, main
from claimedit.history import SqliteHistory

ROOT = Path(__file__).resolve().parents[1]
DAY = "2025-03-03"


def _write(path: Path, *claims: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in claims), "utf-8")
    return path


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "claimedit", *map(str, args)],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


def test_two_runs_share_the_history_file(tmp_path: Path) -> None:
    """Issue 12's acceptance: the IMRT in the first run's file, the IGRT TC in the second's:
    the second run bundles it, because the first run's claim was kept in db.sqlite."""
    db = tmp_path / "db.sqlite"
    first = _write(tmp_path / "first.jsonl", claim("A", ("77385", DAY)))
    second = _write(tmp_path / "second.jsonl", claim("B", ("G6001-TC", DAY)))
    done = _cli("check", first, "--history", db, "--format", "jsonl")
    assert done.returncode == EXIT_OK, done.stderr
    done = _cli("check", second, "--history", db, "--format", "jsonl")
    assert done.returncode == EXIT_OK, done.stderr
    result = json.loads(done.stdout)
    assert result["lines"][0]["decision"] == "bundle"
    assert result["lines"][0]["reasons"][0]["rule_id"] == "IGRT-TC-BUNDLED-INTO-IMRT"
    assert result["history"] == "recorded"
    # without the history the same file is allowed: the first run's claim is what bundles it
    done = _cli("check", second, "--format", "jsonl")
    assert json.loads(done.stdout)["lines"][0]["decision"] == "allow"


def test_the_batch_run_tunes_the_collector_only_while_it_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """check --history freezes what is alive and collects once a batch while it runs
    (docs/performance.md), and leaves the process's collector as it found it."""
    from claimedit.history import command

    enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    with command._batch_collector():
        assert gc.get_freeze_count() > 0
        assert not gc.isenabled()
    assert (gc.isenabled(), gc.get_freeze_count()) == (enabled, frozen)
    collections: list[int] = []
    monkeypatch.setattr(SqliteHistory, "batch_claims", 2)
    monkeypatch.setattr(command, "_collect", lambda: collections.append(gc.get_count()[0]))
    claims = _write(tmp_path / "c.jsonl", *[claim(f"A{n}", ("77385", DAY)) for n in range(5)])
    assert main(["check", str(claims), "--history", str(tmp_path / "db.sqlite"),
                 "--format", "jsonl"]) == EXIT_OK
    assert len(collections) == 2  # before the second and the third batch
    assert (gc.isenabled(), gc.get_freeze_count()) == (enabled, frozen)


def test_table_shows_adjustments_and_claims_judged_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    claims = _write(tmp_path / "c.jsonl", claim("G", ("G6002-TC", DAY)), claim("H", ("77386", DAY)),
                    claim("Z", ("G6001-TC", DAY), patient=None))
    assert main(["check", str(claims), "--history", str(db)]) == EXIT_OK
    out = capsys.readouterr().out
    adjusted = next(row for row in out.splitlines() if row.startswith("^ G"))
    assert "bundle" in adjusted and "CO-97 M15" in adjusted and "because of claim H" in adjusted
    assert re.search(r"^Z +judged alone: no patient_id or provider_id", out, re.M)


def test_invalid_records_still_reported_with_history(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(claim("A", ("77385", DAY))) + "\n{\"claim_id\": \"X\"}\n"
                    + json.dumps(claim("B", ("G6001-TC", DAY))) + "\n", "utf-8")
    assert main(["check", str(path), "--history", str(db), "--format", "jsonl"]) == EXIT_INVALID
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [row.get("claim_id") or row["error"]["claim_id"] for row in rows] == ["A", "X", "B"]
    assert rows[2]["lines"][0]["decision"] == "bundle"
    assert "record 2 (claim X)" in captured.err


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not os.environ.get("CLAIMEDIT_TEST_POSTGRES_URL"), reason="no PostgreSQL server: set "
    "CLAIMEDIT_TEST_POSTGRES_URL (.ci/run does)"))])
def test_history_show_lists_ids_codes_and_decisions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
        request: pytest.FixtureRequest) -> None:
    where = location(kind, tmp_path, request)
    claims = _write(tmp_path / "c.jsonl", claim("A", ("77385", DAY)),
                    claim("B", ("G6001-TC", DAY), ("99213", "2025-03-04")),
                    claim("C", ("77385", DAY), patient="P2"))
    assert main(["check", str(claims), "--history", where, "--format", "jsonl"]) == EXIT_OK
    capsys.readouterr()
    assert main(["history", "show", "--patient", "P1", "--history", where]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "patient P1: 2 stored claims"
    assert "provider 1234567893 claim B (frequency 1, commercial, professional)" in out
    assert "G6001-TC" in out and "bundle IGRT-TC-BUNDLED-INTO-IMRT" in out
    assert "claim C" not in out  # another patient's claim
    assert main(["history", "show", "--patient", "P1", "--history", where, "--json"]) == EXIT_OK
    shown = json.loads(capsys.readouterr().out)
    assert [c["claim_id"] for c in shown["claims"]] == ["A", "B"]
    assert shown["claims"][1]["lines"][1] == {
        "line_id": "2", "code": "99213", "modifiers": [], "units": 1,
        "date_of_service": "2025-03-04", "decision": "allow", "rule_ids": []}


def test_history_purge_removes_claims_older_than_the_date(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "db.sqlite")
    claims = _write(tmp_path / "c.jsonl", claim("OLD", ("77385", "2024-01-02")),
                    claim("SPAN", ("77385", "2024-01-02"), ("77385", "2025-01-02")),
                    claim("NEW", ("77385", "2025-06-01")))
    assert main(["check", str(claims), "--history", db, "--format", "jsonl"]) == EXIT_OK
    assert main(["history", "purge", "--before", "2025-01-01", "--history", db]) == EXIT_OK
    assert "removed 1 claims" in capsys.readouterr().out
    assert main(["history", "show", "--patient", "P1", "--history", db, "--json"]) == EXIT_OK
    shown = json.loads(capsys.readouterr().out)
    assert [c["claim_id"] for c in shown["claims"]] == ["NEW", "SPAN"]


def test_history_location_from_the_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "env.sqlite")
    monkeypatch.setenv("CLAIMEDIT_HISTORY", db)
    claims = _write(tmp_path / "c.jsonl", claim("A", ("77385", DAY)))
    assert main(["check", str(claims), "--format", "jsonl"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["history"] == "recorded"
    assert main(["history", "show", "--patient", "P1"]) == EXIT_OK
    assert "claim A" in capsys.readouterr().out


@pytest.mark.parametrize("where", ["ftp://example/x", "{tmp}/no/such/dir/db.sqlite",
                                   "{tmp}/not-a-db.sqlite"])
def test_a_store_that_cannot_be_opened_is_a_clear_error_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    (tmp_path / "not-a-db.sqlite").write_bytes(b"this is not a database" * 100)
    claims = _write(tmp_path / "c.jsonl", claim("A", ("77385", DAY)))
    where = where.format(tmp=tmp_path)
    assert main(["check", str(claims), "--history", where]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert re.search(r"^error: .*(history|unknown history store)", err, re.M)
    assert "Traceback" not in err
    assert main(["history", "show", "--patient", "P1", "--history", where]) == EXIT_ERROR


def test_history_show_needs_a_store(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMEDIT_HISTORY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["history", "show", "--patient", "P1"])
    assert exit_info.value.code == EXIT_ERROR
    assert "--history" in capsys.readouterr().err


def test_a_claim_that_fails_unexpectedly_is_its_own_error_and_the_batch_is_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-record isolation with history: a bug on one claim rolls its batch back, the batch is
    judged again one claim at a time, the failing claim is reported as an internal error naming
    its record, and every other claim is decided and recorded."""
    from claimedit.history import judge as judging

    real = judging.judge

    def judge(engine: Any, claim: Any, session: Any) -> Any:
        if claim.claim_id == "BOOM":
            raise ZeroDivisionError("a bug")
        return real(engine, claim, session)

    monkeypatch.setattr(judging, "judge", judge)
    db = tmp_path / "db.sqlite"
    claims = _write(tmp_path / "c.jsonl", claim("A", ("77385", DAY)),
                    claim("BOOM", ("99213", DAY)), claim("B", ("G6001-TC", DAY)))
    assert main(["check", str(claims), "--history", str(db), "--format", "jsonl"]) == EXIT_INVALID
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [row.get("claim_id") or row["error"]["claim_id"] for row in rows] == ["A", "BOOM", "B"]
    assert rows[1]["error"]["record"] == 2
    assert "internal error (ZeroDivisionError)" in rows[1]["error"]["issues"][0]["reason"]
    assert rows[2]["lines"][0]["decision"] == "bundle"
    assert main(["history", "show", "--patient", "P1", "--history", str(db), "--json"]) == EXIT_OK
    shown = json.loads(capsys.readouterr().out)
    assert [c["claim_id"] for c in shown["claims"]] == ["A", "B"]


def test_a_resend_is_not_warned_as_a_duplicate_but_a_second_original_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    claims = _write(tmp_path / "c.jsonl", claim("A", ("77385", DAY)),
                    claim("A", ("77385", DAY), frequency="7"),
                    claim("A", ("77385", DAY), frequency="8"),
                    claim("A", ("77385", DAY)))
    assert main(["check", str(claims), "--history", str(db), "--format", "jsonl"]) == EXIT_OK
    err = capsys.readouterr().err
    assert err.count("was already seen in this run") == 1
    assert "record 4" in err


def _837p(claim_id: str, billed: str, member: str) -> str:
    """A one-claim 5010 837P (synthetic): billing NPI 1234567893, the member, one line."""
    code, *modifiers = billed.split("-")
    procedure = ":".join(["HC", code, *modifiers])
    body = [
        "ST*837*0001*005010X222A1", "BHT*0019*00*P0001*20250310*1200*CH",
        "NM1*41*2*SYNTHETIC BILLING SERVICE*****46*SUBM0001", "PER*IC*CLAIMS DESK*TE*5555550100",
        "NM1*40*2*SYNTHETIC HEALTH PLAN*****46*SYNTHPLAN01", "HL*1**20*1",
        "NM1*85*2*SYNTHETIC RADIATION ONCOLOGY GROUP*****XX*1234567893",
        "N3*100 TEST CAMPUS DRIVE", "N4*COLUMBUS*OH*432150001", "REF*EI*990000001",
        "HL*2*1*22*0", "SBR*P*18*******CI", f"NM1*IL*1*TESTPATIENT*ALPHA****MI*{member}",
        "N3*1 EXAMPLE LANE", "N4*TESTVILLE*OH*43004", "DMG*D8*19520214*F",
        "NM1*PR*2*SYNTHETIC PLAN*****PI*00001", f"CLM*{claim_id}*100***11:B:1*Y*A*Y*Y",
        "HI*ABK:C61", "LX*1", f"SV1*{procedure}*100*UN*1***1", "DTP*472*D8*20250303",
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    envelope = ["ISA*00*          *00*          *ZZ*SYNTHCLEARING  *ZZ*SYNTHHEALTHPLN "
                "*250310*1200*^*00501*000000101*0*T*:", "GS*HC*SYNTHCLEARING*SYNTHHEALTHPLN"
                "*20250310*1200*101*X*005010X222A1", *body, "GE*1*101", "IEA*1*000000101"]
    return "~\n".join(envelope) + "~\n"


def test_history_across_x12_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Real feeds: the X12 reader's member id and billing NPI key the history, so the IGRT TC
    of a second 837P is bundled into the IMRT of the first; another member's is not."""
    db = str(tmp_path / "db.sqlite")
    first = tmp_path / "first.x12"
    first.write_text(_837p("X-1", "77385", "0TE0ST0AA00"), "ascii")
    second = tmp_path / "second.x12"
    second.write_text(_837p("X-2", "G6001-TC", "0TE0ST0AA00"), "ascii")
    other = tmp_path / "other.x12"
    other.write_text(_837p("X-3", "G6001-TC", "0TE0ST0BB00"), "ascii")
    assert main(["check", str(first), "--history", db, "--format", "jsonl"]) == EXIT_OK
    capsys.readouterr()
    assert main(["check", str(second), str(other), "--history", db,
                 "--format", "jsonl"]) == EXIT_OK
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["claim_id"], row["lines"][0]["decision"], row["history"]) for row in rows] == [
        ("X-2", "bundle", "recorded"), ("X-3", "allow", "recorded")]


@needs_postgres
def test_a_bulk_run_on_postgresql_stays_within_the_servers_lock_table(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each claim holds two advisory locks until its batch commits, from a lock table the server
    shares between sessions (max_locks_per_transaction x max_connections, 6,400 by default):
    8,192 claims in one transaction ran out of it ("out of shared memory"). ``check`` commits
    PostgreSQL batches of ``PostgresHistory.batch_claims``."""
    claims = _write(tmp_path / "c.jsonl", *[
        claim(f"B{n}", ("77385", DAY), patient=f"P{n}") for n in range(8192)])
    assert main(["check", str(claims), "--history", postgres_url, "--format", "jsonl"]) == EXIT_OK
    out = capsys.readouterr()
    assert out.out.count('"history":"recorded"') == 8192



def test_history_keeps_what_the_reader_left_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A line the reader left out (an 837I revenue-code-only line) is said on the claim's result
    with --history as without it."""
    data = ROOT / "tests" / "data" / "igrt_837i.x12"
    assert main(["check", str(data), "--format", "jsonl"]) == EXIT_OK
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["check", str(data), "--history", str(tmp_path / "db.sqlite"),
                 "--format", "jsonl"]) == EXIT_OK
    with_history = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    noted = [row["notes"] for row in plain if row.get("notes")]
    assert noted and noted[0][0]["type"] == "not_evaluated"
    assert [row.get("notes") for row in with_history] == [row.get("notes") for row in plain]
