"""``claimedit rules test``: a pack's case files run like a test suite, for analysts.

The cases themselves are checked by ``test_policy_cases.py``; here the runner is: it passes the
shipped pack, fails a wrong expectation naming the case, the line, expected and got, reports
broken case files with file, line and key (exit 2), and flags edits left untested.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from claimedit.cli import main
from claimedit.pack import RulePackError, load_pack
from claimedit.policy_tests import load_cases, resolve_pack, run_pack_tests

RULE_FILE = "IGRT-TC-BUNDLED-INTO-IMRT.yaml"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_the_packaged_pack_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", "igrt"]) == 0
    out = capsys.readouterr().out
    assert "igrt: passed:" in out and "0 failed, 0 coverage gaps" in out
    assert "FAIL" not in out


def test_every_packaged_pack_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", "-v"]) == 0
    out = capsys.readouterr().out
    assert "ok   tests/acceptance.yaml" in out


def test_a_wrong_expectation_fails_naming_case_line_expected_and_got(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pack_copy / "tests" / RULE_FILE
    text = path.read_text(encoding="utf-8")
    wrong = text.replace(
        "- {code: G6001, modifiers: [TC], expect: {decision: bundle, fires: true,",
        "- {code: G6001, modifiers: [TC], expect: {decision: allow, fires: true,", 1)
    assert wrong != text
    _write(path, wrong)
    line = next(number for number, row in enumerate(wrong.splitlines(), 1)
                if "decision: allow, fires: t" in row)

    assert main(["rules", "test", str(pack_copy)]) == 1
    out = capsys.readouterr().out
    assert (f"FAIL tests/{RULE_FILE}:{line} g6001_tc_with_77385, line 2 "
            "(G6001-TC on 2025-03-03, commercial)") in out
    assert "  expected: allow\n" in out
    assert "  got:      bundle\n" in out
    assert "fired:    IGRT-TC-BUNDLED-INTO-IMRT bundle CO-97 M15 (igrt-2025-08-04)" in out
    assert "1 failed" in out and "FAILED" in out


def test_wrong_remittance_codes_and_rule_ids_fail(pack_copy: Path) -> None:
    path = pack_copy / "tests" / RULE_FILE
    text = path.read_text(encoding="utf-8")
    _write(path, text.replace('remit: {group_code: CO, carc: "97", rarcs: [M15]}',
                              'remit: {group_code: CO, carc: 97, rarcs: [N20]}'))
    report = run_pack_tests(pack_copy)
    assert not report.ok
    assert report.failures
    assert all("remit CO-97 N20" in f.expected and "remit CO-97 M15" in f.got
               for f in report.failures)


def test_a_broken_case_file_is_a_broken_pack(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pack_copy / "tests" / "allow.yaml"
    text = path.read_text(encoding="utf-8")
    _write(path, text.replace("expect: {decision: allow", "expect: {decison: allow", 1))
    assert main(["rules", "test", str(pack_copy)]) == 2
    err = capsys.readouterr().err
    assert "tests/allow.yaml:" in err
    assert "expect.decison]: unknown key 'decison'" in err
    assert "expect.decision]: missing key 'decision'" in err


def test_case_file_problems_are_all_listed_with_their_place(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    _write(tests / "IGRT-X.yaml", """\
rule: IGRT-Y
cases:
  - name: one
    payer: commercial
    lines:
      - {code: 77385, expect: {decision: allow, fires: false}}
  - name: one
    payer: commercial
    date: 2025-01-01
    lines:
      - {code: "7", modifiers: [26], expect: {decision: allow}}
""")
    with pytest.raises(RulePackError) as caught:
        load_cases(tmp_path)
    problems = {(p.line, p.key, p.message) for p in caught.value.problems}
    assert (1, "rule", "rule IGRT-Y does not match the file name IGRT-X.yaml") in problems
    assert (6, "cases.0.lines.0",
            "no date of service: set date on the line or on the case") in problems
    assert (7, "cases.1.name", "duplicate case name 'one' (also case 0)") in problems
    assert (11, "cases.1.lines.0.expect",
            "missing key 'fires': does the file's edit fire?") in problems
    assert any(p.line == 11 and p.key == "cases.1.lines.0.code" and "'7' is not a CPT" in p.message
               for p in caught.value.problems)


def test_unquoted_codes_and_modifiers_are_read_as_text(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    _write(tests / "acceptance.yaml", """\
cases:
  - name: numbers
    payer: Medicare
    date: 2025-06-02
    lines:
      - {code: 77387, modifiers: [26], expect: {decision: deny}}
""")
    [case] = load_cases(tmp_path)
    assert case.claim.lines[0].code == "77387"
    assert case.claim.lines[0].modifiers == ("26",)
    assert case.line == 2 and case.expectations[0].line == 6


def test_untested_edits_are_coverage_gaps(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pack_copy / "tests" / "IGRT-MEDICARE-77387.yaml").unlink()
    _write(pack_copy / "tests" / "IGRT-GONE.yaml", """\
rule: IGRT-GONE
cases:
  - name: quiet
    payer: commercial
    date: 2025-01-01
    lines:
      - {code: "77385", expect: {decision: allow, fires: false}}
""")
    assert main(["rules", "test", str(pack_copy)]) == 1
    out = capsys.readouterr().out
    assert "GAP  edit IGRT-MEDICARE-77387 has no case file tests/IGRT-MEDICARE-77387.yaml" in out
    assert "GAP  tests/IGRT-GONE.yaml is about no edit of the pack" in out
    assert "GAP  tests/IGRT-GONE.yaml has no case showing IGRT-GONE firing" in out


def test_a_pack_without_cases_does_not_pass(
    pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (pack_copy / "tests").iterdir():
        path.unlink()
    assert main(["rules", "test", str(pack_copy)]) == 1
    assert "nothing is tested" in capsys.readouterr().out


def test_case_files_are_not_rule_files(pack_copy: Path) -> None:
    """Decision: tests/ is not hashed and not loaded as rules. A new case changes no decision, so
    it must not change the provenance stamped on every result (nor need a version bump)."""
    before = load_pack(pack_copy).content_hash
    _write(pack_copy / "tests" / "allow.yaml",
           (pack_copy / "tests" / "allow.yaml").read_text(encoding="utf-8") + "# a comment\n")
    _write(pack_copy / "tests" / "broken.yaml", "cases: [\n")
    pack = load_pack(pack_copy)
    assert pack.content_hash == before
    assert not any(name.startswith("tests/") for name in pack.files)


def test_unknown_pack_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "test", "no-such-pack"]) == 2
    assert "not a packaged pack (igrt" in capsys.readouterr().err
    assert resolve_pack("igrt").name == "igrt"


def test_command_line_exit_status(pack_copy: Path) -> None:
    """One real process: the console entry point, its output streams and exit status."""
    path = pack_copy / "tests" / "allow.yaml"
    _write(path, path.read_text(encoding="utf-8").replace(
        "expect: {decision: allow", "expect: {decision: deny", 1))
    run = subprocess.run([sys.executable, "-m", "claimedit", "rules", "test", str(pack_copy)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert "  expected: deny\n  got:      allow\n" in run.stdout
    assert "fired:    no edit" in run.stdout
