"""The ``claimedit`` command line: ``cli.main`` in process with its own standard streams and
working directory (``tests/_cli.py``), and a few tests run as a user runs it, a subprocess of the
console script (the table of the examples, stdin from a pipe, a broken pack's exit status 2).

Outputs are checked against the library's own results for the same claims, so the CLI is tested
for reading, writing and reporting, and the policy cases stay the one place for decisions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _cli import run_cli

import claimedit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "claims.jsonl"


def _command() -> list[str]:
    script = shutil.which("claimedit", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "from claimedit.cli import main; raise SystemExit(main())"]


COMMAND = _command()


def run(*args: str | Path, stdin: str | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    """``claimedit ARGS`` in this process."""
    return run_cli(args, stdin=stdin, cwd=cwd)


def run_process(*args: str | Path, stdin: str | None = None, cwd: Path | None = None
                ) -> subprocess.CompletedProcess[str]:
    """``claimedit ARGS`` as a subprocess of the console script, as a user runs it."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([*COMMAND, *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=60, cwd=cwd, env=env, check=False)


def _example_claims() -> list[dict[str, Any]]:
    return [json.loads(text) for text in EXAMPLES.read_text("utf-8").splitlines() if text.strip()]


def _expected(engine: claimedit.Engine, claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [engine.evaluate(claim).to_dict() for claim in claims]


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- check: formats -------------------------------------------------------------------------

def test_check_examples_as_a_table(engine: claimedit.Engine) -> None:
    """The table has one row per claim line with its claim, line id, code and decision, and the
    summary counts claims and lines; exit status 0."""
    done = run_process("check", EXAMPLES)
    assert done.returncode == 0, done.stderr
    claims = _example_claims()
    rows = [row.split() for row in done.stdout.splitlines()[1:] if row.strip()]
    for claim in claims:
        for line in engine.evaluate(claim).lines:
            assert any(row[:3] == [claim["claim_id"], line.line_id, line.code]
                       and line.decision.value in row for row in rows), (claim["claim_id"], line)
    lines = sum(len(claim["lines"]) for claim in claims)
    assert f"{len(claims)} claims, {lines} lines" in done.stdout
    assert "0 invalid records" in done.stdout + done.stderr


def test_check_json_is_one_document(engine: claimedit.Engine) -> None:
    """--format json prints one JSON document: results (each as ClaimResult.to_dict), errors and
    a summary."""
    done = run("check", EXAMPLES, "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"results", "errors", "summary"}
    claims = _example_claims()
    assert document["results"] == _expected(engine, claims)
    assert document["errors"] == []
    summary = document["summary"]
    assert summary["claims"] == len(claims) and summary["invalid_records"] == 0
    assert summary["lines"] == sum(len(claim["lines"]) for claim in claims)
    assert sum(summary["decisions"].values()) == summary["lines"]


def test_check_jsonl_is_one_result_a_line(engine: claimedit.Engine) -> None:
    """--format jsonl prints one claim result per line, in input order."""
    done = run("check", EXAMPLES, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert _jsonl(done.stdout) == _expected(engine, _example_claims())


def test_check_json_list_and_single_claim_files(engine: claimedit.Engine, tmp_path: Path) -> None:
    """A .json file holding a list of claims, and one holding a single claim, are both read."""
    claims = _example_claims()
    (tmp_path / "list.json").write_text(json.dumps(claims[:4], indent=2), "utf-8")
    (tmp_path / "one.json").write_text(json.dumps(claims[5], indent=2), "utf-8")
    done = run("check", tmp_path / "list.json", tmp_path / "one.json", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert _jsonl(done.stdout) == _expected(engine, [*claims[:4], claims[5]])


CSV_TEXT = """\
claim_id,payer,state,line_id,code,modifiers,date_of_service,units
K1,commercial,OH,1,77385,,2025-03-04,1
K1,commercial,OH,2,g6001,tc,2025-03-04,1
K1,commercial,OH,3,G6001,26 LT,2025-03-04,
K2,medicaid,,1,77385,,2025-06-09,1
K2,medicaid,,2,77387,,2025-06-09,2
K3,medicare,,1,G6017,26,2025-05-14,1
"""

CSV_CLAIMS = [
    {"claim_id": "K1", "payer": "commercial", "state": "OH", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-03-04"},
        {"line_id": "2", "code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-04"},
        {"line_id": "3", "code": "G6001", "modifiers": ["26", "LT"],
         "date_of_service": "2025-03-04"}]},
    {"claim_id": "K2", "payer": "medicaid", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-06-09"},
        {"line_id": "2", "code": "77387", "date_of_service": "2025-06-09", "units": 2}]},
    {"claim_id": "K3", "payer": "medicare", "lines": [
        {"line_id": "1", "code": "G6017", "modifiers": ["26"], "date_of_service": "2025-05-14"}]},
]


def test_check_csv(engine: claimedit.Engine, tmp_path: Path) -> None:
    """CSV: one line per row, rows grouped into claims by claim_id, the modifiers column split
    on spaces, codes and modifiers normalised."""
    path = tmp_path / "claims.csv"
    path.write_text(CSV_TEXT, "utf-8")
    done = run("check", path, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert _jsonl(done.stdout) == _expected(engine, CSV_CLAIMS)


def test_check_csv_with_modifier1_to_modifier4_columns(engine: claimedit.Engine,
                                                       tmp_path: Path) -> None:
    """The alternative layout, one modifier per column (modifier1..modifier4), any column
    order and header case, reads the same claims."""
    text = ("Date_of_Service,Claim_ID,Payer,State,Line_ID,Code,Modifier1,Modifier2,Modifier3,"
            "Modifier4,Units\n"
            "2025-03-04,K1,commercial,OH,1,77385,,,,,1\n"
            "2025-03-04,K1,commercial,OH,2,G6001,TC,,,,1\n"
            "2025-03-04,K1,commercial,OH,3,G6001,26,LT,,,\n"
            "2025-06-09,K2,medicaid,,1,77385,,,,,1\n"
            "2025-06-09,K2,medicaid,,2,77387,,,,,2\n"
            "2025-05-14,K3,medicare,,1,G6017,26,,,,1\n")
    path = tmp_path / "claims.csv"
    path.write_text(text, "utf-8")
    done = run("check", path, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert _jsonl(done.stdout) == _expected(engine, CSV_CLAIMS)


def test_check_reads_stdin(engine: claimedit.Engine) -> None:
    """`-` reads standard input; the format is told from the content (JSON Lines, then CSV)."""
    done = run_process("check", "-", "--format", "jsonl", stdin=EXAMPLES.read_text("utf-8"))
    assert done.returncode == 0, done.stderr
    assert _jsonl(done.stdout) == _expected(engine, _example_claims())
    done = run("check", "-", "--format", "jsonl", stdin=CSV_TEXT)
    assert done.returncode == 0, done.stderr
    assert _jsonl(done.stdout) == _expected(engine, CSV_CLAIMS)


def test_stdin_named_twice_is_read_once_not_a_crash(engine: claimedit.Engine) -> None:
    """The text wrapper around stdin closed it when collected, so a second `-` (or any later
    read of stdin) died with "ValueError: peek of closed file"; now the second `-` is empty."""
    done = run("check", "-", "-", "--format", "jsonl", stdin=CSV_TEXT)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert _jsonl(done.stdout) == _expected(engine, CSV_CLAIMS)


# --- check: bad records ---------------------------------------------------------------------

def test_bad_records_are_reported_and_every_good_record_still_evaluated(
    engine: claimedit.Engine, tmp_path: Path
) -> None:
    """A broken JSON line, an unknown payer, a malformed code, a CSV claim whose rows are not
    contiguous and a missing file: every good record is still written, each bad one is an error
    on stderr naming the file, the record number, the field and the reason; exit status 2."""
    good = _example_claims()[:3]
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text("\n".join([
        json.dumps(good[0]),
        '{"claim_id": "B1", "payer": "commercial", "lines": [',
        json.dumps({**good[1], "claim_id": "B2", "payer": "tricare"}),
        json.dumps(good[1]),
        json.dumps({"claim_id": "B3", "payer": "medicare", "lines": [
            {"code": "7738", "date_of_service": "2025-03-03"}]}),
        json.dumps(good[2]),
    ]) + "\n", "utf-8")
    csv_path = tmp_path / "split.csv"
    csv_path.write_text(
        "claim_id,payer,line_id,code,modifiers,date_of_service\n"
        "A,medicaid,1,77385,,2025-06-09\n"
        "B,commercial,1,G6001,26,2025-03-03\n"
        "A,medicaid,2,77387,,2025-06-09\n", "utf-8")
    missing = tmp_path / "missing.jsonl"

    done = run("check", jsonl, missing, csv_path, "--format", "jsonl")
    assert done.returncode == 1
    results = [item for item in _jsonl(done.stdout) if "error" not in item]
    by_id = {result["claim_id"]: result for result in results}
    for claim in good:
        assert by_id[claim["claim_id"]] == engine.evaluate(claim).to_dict()
    assert "B" in by_id, "the CSV claim between the split rows is still evaluated"
    assert not {"B1", "B2", "B3"} & set(by_id)

    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    def error_for(source: Path, record: int) -> str:
        found = [e for e in errors if f"{source}: record {record}" in e]
        assert len(found) == 1, f"no single error for {source} record {record} in {errors}"
        return found[0]

    assert "not JSON" in error_for(jsonl, 2)
    assert "payer" in error_for(jsonl, 3) and "tricare" in error_for(jsonl, 3)
    bad_code = error_for(jsonl, 5)
    assert "lines.0.code" in bad_code and "7738" in bad_code
    assert "not contiguous" in error_for(csv_path, 4)
    assert any(str(missing) in e and "cannot read" in e for e in errors)
    assert len(errors) == 5


def test_csv_claim_whose_rows_disagree_on_payer_is_an_error_not_a_guess(tmp_path: Path) -> None:
    """Payer and state belong to the claim: a later row that names another payer makes the whole
    claim an error (it is not judged under the first row's payer), and the next claim is still
    evaluated; a split claim is one error for its later rows, not one per row."""
    csv_path = tmp_path / "claims.csv"
    csv_path.write_text(
        "claim_id,payer,state,code,modifiers,date_of_service\n"
        "A,medicare,OH,77385,,2025-03-03\n"
        "A,medicaid,OH,G6001,TC,2025-03-03\n"
        "B,commercial,,G6017,26,2025-03-03\n"
        "B,commercial,,77385,,2025-03-04\n"
        "C,commercial,,77385,,2025-03-04\n"
        "B,commercial,,G6001,,2025-03-04\n"
        "B,commercial,,G6002,,2025-03-04\n", "utf-8")
    done = run("check", csv_path, "--format", "jsonl")
    assert done.returncode == 1
    items = _jsonl(done.stdout)
    assert [item.get("claim_id") for item in items if "error" not in item] == ["B", "C"]
    errors = [item["error"] for item in items if "error" in item]
    assert [(e["record"], e["claim_id"]) for e in errors] == [(2, "A"), (7, "B")]
    assert errors[0]["issues"][0]["field"] == "lines.1.payer"
    assert "medicaid" in errors[0]["issues"][0]["reason"]
    assert "not contiguous" in errors[1]["issues"][0]["reason"]


def test_missing_file_does_not_stop_the_others(engine: claimedit.Engine, tmp_path: Path) -> None:
    """A file that cannot be read is an error; the files after it are still processed."""
    missing = tmp_path / "nope.jsonl"
    done = run("check", missing, EXAMPLES, "--format", "jsonl")
    assert done.returncode == 1
    results = [item for item in _jsonl(done.stdout) if "error" not in item]
    assert results == _expected(engine, _example_claims())
    assert str(missing) in done.stderr


def _broken_pack(tmp_path: Path) -> tuple[Path, list[str]]:
    pack = tmp_path / "igrt"
    shutil.copytree(claimedit.pack.packaged_rules_path(), pack)
    policy = pack / "edits" / "2025-policy.yaml"
    policy.write_text(policy.read_text("utf-8").replace(
        "  - id: IGRT-PC-CODED-WITH-GCODES\n",
        "  - id: IGRT-PC-CODED-WITH-GCODES\n    colour: red\n"), "utf-8")
    meta = pack / "pack.yaml"
    meta.write_text(meta.read_text("utf-8") + "owner: claims analytics\n", "utf-8")
    return pack, ["edits/2025-policy.yaml", "colour", "pack.yaml", "owner"]


def test_check_with_a_broken_pack_exits_2_listing_every_problem(tmp_path: Path) -> None:
    """--rules pointing at a broken pack: exit status 2, nothing evaluated, and every problem
    printed with its file."""
    pack, keys = _broken_pack(tmp_path)
    done = run_process("check", EXAMPLES, "--rules", pack)
    assert done.returncode == 2
    assert "EX-1001" not in done.stdout
    for key in keys:
        assert key in done.stderr


# --- explain, rules ---------------------------------------------------------------------------

def test_explain_prints_every_fired_edit_with_its_citation(engine: claimedit.Engine) -> None:
    """explain shows the decision, then each edit that fired with its remittance codes, its
    message and the policy sentence it cites."""
    done = run("explain", "77387-26", "--date", "2025-06-02", "--payer", "medicare",
               "--with", "77412")
    assert done.returncode == 0, done.stderr
    line = engine.evaluate_line({"code": "77387", "modifiers": ["26"],
                                 "date_of_service": "2025-06-02"},
                                payer="medicare", same_day_codes=["77412"])
    assert set(line.rule_ids) == {"IGRT-MEDICARE-77387", "IGRT-PC-CODED-WITH-GCODES"}
    assert "DENY" in done.stdout.splitlines()[0]
    for reason in line.reasons:
        assert reason.rule_id in done.stdout
        assert f"cites {reason.citation}" in done.stdout
        assert f"{reason.group_code}-{reason.carc}" in done.stdout
    assert engine.provenance.content_hash in done.stderr  # the `rules:` line, on stderr


def test_explain_a_bundled_tc_and_an_untouched_line() -> None:
    """G6001-TC with IMRT the same day is bundled citing the IMRT sentence; without IMRT no edit
    fires and explain says so."""
    bundled = run("explain", "G6001-TC", "--date", "2025-03-03", "--payer", "commercial",
                  "--with", "77385")
    assert bundled.returncode == 0, bundled.stderr
    assert "BUNDLE" in bundled.stdout and "IGRT-TC-BUNDLED-INTO-IMRT" in bundled.stdout
    assert "technical component of IGRT is bundled into IMRT" in bundled.stdout
    alone = run("explain", "G6001-TC", "--date", "2025-03-03", "--payer", "commercial")
    assert alone.returncode == 0, alone.stderr
    assert "ALLOW" in alone.stdout and "no edit fired" in alone.stdout


def test_explain_takes_the_line_units(capsys: pytest.CaptureFixture[str]) -> None:
    """--units reaches the unit limits (in process): G6001-26 x 3 next to 77412 passes the
    Medicare practitioner MUE of 2 and is denied; x 2 is allowed; 0 units is an input error."""
    from claimedit.cli import main
    base = ["explain", "G6001-26", "--with", "77412", "--date", "2024-09-03", "--payer",
            "medicare", "--rules", "igrt", "--rules", "ncci-radonc"]
    assert main([*base, "--units", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("G6001-26 x 3 units on 2024-09-03") and ": DENY" in out
    assert "NCCI-MUE-PRACTITIONER-MAI3-2: deny, CO-151 N362" in out
    assert main([*base, "--units", "2"]) == 0
    out = capsys.readouterr().out
    assert ": ALLOW" in out and "no edit fired" in out
    assert main([*base, "--units", "0"]) == 2
    assert "units" in capsys.readouterr().err
    # The claim type selects the NCCI table, so the header names it when it is not the default.
    hospital = ["explain", "77402", "--with", "77385", "--date", "2024-09-03", "--payer",
                "medicare", "--claim-type", "institutional", "--rules", "ncci-radonc"]
    assert main(hospital) == 0
    out = capsys.readouterr().out
    assert out.startswith("77402 on 2024-09-03, medicare, institutional claim, with 77385")
    assert "NCCI-PTP-HOSPITAL: bundle, CO-236 N20" in out


def test_explain_rejects_a_malformed_code() -> None:
    """A malformed code is an input error (exit 2) naming the field, not a traceback."""
    done = run("explain", "7738", "--date", "2025-03-03", "--payer", "commercial")
    assert done.returncode == 2
    assert "code" in done.stderr and "Traceback" not in done.stderr


def test_rules_check_ok_and_broken(tmp_path: Path) -> None:
    """rules check: the packaged pack is ok (exit 0); a broken one exits 2 listing every
    problem."""
    ok = run("rules", "check")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok:")
    pack, keys = _broken_pack(tmp_path)
    broken = run("rules", "check", pack)
    assert broken.returncode == 2
    assert "2 problems" in broken.stderr
    for key in keys:
        assert key in broken.stderr


def test_rules_show_2026_medicare(engine: claimedit.Engine) -> None:
    """On 2026-02-02 for Medicare the edits in force are the 2026 code set's, and the 2025
    Medicare-77387 edit is gone (it is listed on a 2025 date, so its absence means something)."""
    done = run("rules", "show", "--as-of", "2026-02-02", "--payer", "medicare")
    assert done.returncode == 0, done.stderr
    expected = {item.edit.id for item in engine.pack.edits
                if item.source == "igrt-2026-code-set" and "medicare" in item.edit.payers}
    assert expected == {"IGRT-CODE-NOT-EFFECTIVE", "IGRT-MODIFIER-26-WITH-TC",
                        "IGRT26-77387-TC-BUNDLED-INTO-DELIVERY"}
    listed = {row.split()[0] for row in done.stdout.splitlines()[1:] if row.strip()}
    assert listed == expected
    assert "IGRT-MEDICARE-77387" not in done.stdout
    in_2025 = run("rules", "show", "--as-of", "2025-06-02", "--payer", "medicare")
    assert "IGRT-MEDICARE-77387" in in_2025.stdout


def test_rules_show_json() -> None:
    """rules show --json is a document of the edits in force, each with its id and source."""
    done = run("rules", "show", "--as-of", "2026-02-02", "--payer", "medicare", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["as_of"] == "2026-02-02"
    assert {row["id"] for row in document["edits"]} == {
        "IGRT-CODE-NOT-EFFECTIVE", "IGRT-MODIFIER-26-WITH-TC",
        "IGRT26-77387-TC-BUNDLED-INTO-DELIVERY"}
    assert {row["source"] for row in document["edits"]} == {"igrt-2026-code-set"}


@pytest.mark.parametrize("args", [["check"], ["explain", "G6001"], ["rules"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    """A command line missing what it needs is a usage error (argparse exit status 2)."""
    assert run(*args).returncode == 2


def test_rules_show_refuses_a_state_that_is_not_a_state_code() -> None:
    """`--state Ohio` would silently show the base pack; it is a usage error instead."""
    done = run("rules", "show", "--state", "Ohio")
    assert done.returncode == 2 and "two-letter state code" in done.stderr


def test_files_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    """Spreadsheet and Windows exports often start with a UTF-8 byte-order mark: the CSV header
    and the first JSON Lines record must still be read."""
    claim = {"claim_id": "BOM1", "payer": "medicare",
             "lines": [{"code": "77387", "date_of_service": "2025-06-02"}]}
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + json.dumps(claim).encode() + b"\n")
    csv_path = tmp_path / "bom.csv"
    csv_path.write_bytes(b"\xef\xbb\xbfclaim_id,payer,code,date_of_service\n"
                         b"BOM2,medicare,77387,2025-06-02\n")
    done = run("check", jsonl, csv_path, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    results = _jsonl(done.stdout)
    assert [(r["claim_id"], r["lines"][0]["decision"]) for r in results] == [
        ("BOM1", "deny"), ("BOM2", "deny")]
