"""Nothing lost, nothing leaked: hostile input costs one error record, never the run.

Most checks run the command line in-process (``main()``); a few run it as a subprocess, where a
traceback or the exit status of the real process is the point.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from claimedit import cli, inputs
from claimedit.claims import parse_claim
from claimedit.inputs import bounded_lines, read_csv, read_json, read_jsonl
from claimedit.limits import MAX_RECORD_BYTES, printable, quote
from claimedit.results import ClaimError

GOOD_LINE = {"code": "77385", "date_of_service": "2025-03-03"}


def _claim(claim_id: str, **fields: Any) -> dict[str, Any]:
    return {"claim_id": claim_id, "payer": "medicare", "lines": [GOOD_LINE], **fields}


def _jsonl(claims: list[Any]) -> str:
    return "".join((c if isinstance(c, str) else json.dumps(c)) + "\n" for c in claims)


def _check(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = cli.main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def _results(out: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [i for i in items if "error" not in i], [i["error"] for i in items if "error" in i]


# --- acceptance ------------------------------------------------------------------------------

def test_a_record_nested_5000_deep_is_one_error_and_the_other_999_are_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = '{"claim_id": "C501", "payer": "medicare", "lines": ' + "[" * 5000 + "]" * 5000 + "}"
    claims: list[Any] = [_claim(f"C{n}") for n in range(1, 1001)]
    claims[500] = deep
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl(claims))
    status, out, err = _check(capsys, path, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert len(results) == 999
    assert {r["claim_id"] for r in results} == {f"C{n}" for n in range(1, 1001)} - {"C501"}
    assert [e["record"] for e in errors] == [501]
    assert errors[0]["issues"][0]["type"] == "json_invalid"
    assert "Traceback" not in err and "record 501" in err


def test_one_bad_byte_in_a_40000_row_csv_is_one_error_naming_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [b"claim_id,payer,code,date_of_service\n"]
    rows += [b"C%d,medicare,%s,2025-03-03\n" % (n, b"7738\xff" if n == 20001 else b"77385")
             for n in range(1, 40001)]
    path = tmp_path / "claims.csv"
    path.write_bytes(b"".join(rows))
    status, out, _ = _check(capsys, path, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert len(results) == 39999
    assert len(errors) == 1
    # Row 20,001 of data is line 20,002 of the file (after the header).
    assert errors[0]["record"] == 20002 and errors[0]["claim_id"] == "C20001"
    assert errors[0]["issues"][0]["type"] == "invalid_utf8"
    assert "row 20002" in errors[0]["issues"][0]["reason"]
    assert results[-1]["claim_id"] == "C40000"


def test_a_20_mb_payer_string_is_a_short_error_and_the_next_record_is_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl([_claim("BIG", payer="x" * 20_000_000), _claim("NEXT")]))
    status, out, err = _check(capsys, path, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert [r["claim_id"] for r in results] == ["NEXT"]
    assert len(json.dumps(errors)) < 10_000 and len(err) < 10_000
    assert errors[0]["record"] == 1


def test_a_long_value_under_the_record_limit_is_described_not_echoed() -> None:
    """Below the record size limit the value is parsed, and the message still stays short."""
    error = parse_claim(json.dumps(_claim("C1", payer="y" * 1_000_000)))
    assert isinstance(error, ClaimError)
    assert len(str(error)) < 300
    assert "a text of 1,000,000 characters" in str(error)
    assert error.issues[0].type == "enum"


def test_an_overlay_of_nested_aliases_is_refused_at_its_line_in_under_a_second(
    tmp_path: Path,
) -> None:
    """A subprocess: the real exit status, and no traceback."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for depth in range(1, 9):
        prev, name = "abcdefghi"[depth - 1], "abcdefghi"[depth]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    overlay = tmp_path / "XX.yaml"
    overlay.write_text("\n".join(levels) + "\n")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "claimedit", "rules", "check", "--overlay", str(overlay)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == cli.EXIT_ERROR
    assert "Traceback" not in done.stderr
    assert re.search(r"XX\.yaml:2 \[b\]: aliases are not allowed", done.stderr), done.stderr
    # The bound is for the loader; interpreter start-up on a shared machine is most of it.
    assert elapsed < 10, elapsed


# --- isolation: an unexpected exception is one record's error --------------------------------

def test_an_engine_failure_on_one_record_is_its_internal_error_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimedit.engine import Engine

    real = Engine.evaluate

    def evaluate(self: Engine, claim: Any) -> Any:
        if claim.claim_id == "C2":
            raise KeyError("MEMBER-123456 Jane Doe")  # arguments that must not be printed
        return real(self, claim)

    monkeypatch.setattr(Engine, "evaluate", evaluate)
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl([_claim("C1"), _claim("C2"), _claim("C3")]))
    status, out, err = _check(capsys, path, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert [r["claim_id"] for r in results] == ["C1", "C3"]
    assert errors[0]["claim_id"] == "C2" and errors[0]["record"] == 2
    issue = errors[0]["issues"][0]
    assert issue["type"] == "internal_error" and "KeyError" in issue["reason"]
    assert "Jane" not in out + err and "MEMBER" not in out + err


def test_a_reader_that_fails_mid_file_ends_that_file_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cli.read_csv

    def failing(lines: Any, source: str) -> Any:
        records = real(lines, source)
        yield next(records)
        raise TypeError("secret row content")

    monkeypatch.setattr(cli, "read_csv", failing)
    first = tmp_path / "a.csv"
    first.write_text("claim_id,payer,code,date_of_service\nA1,medicare,77385,2025-03-03\n"
                     "A2,medicare,77385,2025-03-03\n")
    second = tmp_path / "b.jsonl"
    second.write_text(_jsonl([_claim("B1")]))
    status, out, err = _check(capsys, first, second, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert [r["claim_id"] for r in results] == ["A1", "B1"]
    assert errors[0]["source"] == str(first) and errors[0]["issues"][0]["type"] == \
        "internal_error"
    assert "TypeError" in err and "secret" not in out + err


def test_a_failure_of_the_run_itself_is_status_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimedit.outputs import JsonLinesWriter

    def broken_close(self: JsonLinesWriter) -> None:
        raise RuntimeError("disk full: /home/patient-files")

    monkeypatch.setattr(JsonLinesWriter, "close", broken_close)
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl([_claim("C1")]))
    status, _, err = _check(capsys, path, "--format", "jsonl")
    assert status == cli.EXIT_ERROR
    assert "internal error: RuntimeError" in err and "patient-files" not in err


def test_a_writer_failing_on_one_result_reports_that_record_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claimedit.outputs import JsonLinesWriter

    real = JsonLinesWriter.result

    def result(self: JsonLinesWriter, item: Any) -> None:
        if item.claim_id == "C1":
            raise ValueError("cannot encode")
        real(self, item)

    monkeypatch.setattr(JsonLinesWriter, "result", result)
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl([_claim("C1"), _claim("C2")]))
    status, out, err = _check(capsys, path, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert [r["claim_id"] for r in results] == ["C2"]
    assert errors[0]["claim_id"] == "C1"
    # Counted once: as the error it became, not also as a claim.
    assert "1 claim, 1 line:" in err and "1 invalid record" in err


# --- bounded work ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    ('{"claim_id": "A", "payer": "medicare", "lines": ' + "[" * 300 + "]" * 300 + "}",
     "json_invalid"),
    ('{"claim_id": "A", "payer": "medicare", "lines": [{"code": "77385", "date_of_service": '
     '"2025-03-03", "units": ' + "9" * 5000 + "}]}", "json_invalid"),
    ('{"claim_id": ' + "7" * 4400 + ', "payer": "medicare", "lines": []}', "json_invalid"),
    ('{"claim_id": "A", "payer": "medicare", "lines": [], "x": 1e999999}', "too_short"),
])
def test_nesting_and_huge_numbers_are_errors_not_crashes(text: str, kind: str) -> None:
    error = parse_claim(text)
    assert isinstance(error, ClaimError)
    assert kind in {issue.type for issue in error.issues}
    assert len(str(error)) < 1000


def test_a_claim_of_too_many_lines_is_refused() -> None:
    lines = [GOOD_LINE] * 100_001
    error = parse_claim({"claim_id": "A", "payer": "medicare", "lines": lines})
    assert isinstance(error, ClaimError)
    assert [issue.type for issue in error.issues] == ["too_long"]


def test_errors_list_a_bounded_number_of_issues() -> None:
    lines = [{"code": f"BAD{n}", "date_of_service": "2025-03-03"} for n in range(500)]
    error = parse_claim({"claim_id": "A", "payer": "medicare", "lines": lines})
    assert isinstance(error, ClaimError)
    assert len(error.issues) <= 21
    assert error.issues[-1].type == "too_many_issues"
    assert "more problems" in error.issues[-1].reason


def test_a_json_lines_line_over_the_limit_is_skipped_unread() -> None:
    from claimedit.inputs import bounded_lines

    stream = io.BytesIO(b"x" * (MAX_RECORD_BYTES + 10) + b"\n" + json.dumps(_claim("A")).encode()
                        + b"\n")
    records = list(read_jsonl(bounded_lines(stream), "f.jsonl"))
    assert isinstance(records[0].data, ClaimError)
    assert records[0].data.issues[0].type == "record_too_large"
    assert records[1].number == 2 and not isinstance(parse_claim(records[1].data), ClaimError)


# --- readers resynchronise -------------------------------------------------------------------

def test_a_json_list_is_read_element_by_element_past_damage() -> None:
    elements = [json.dumps(_claim("A")), '{"claim_id": "B", "payer": tru}',
                json.dumps(_claim("C")), '{"claim_id": "D", "payer": "a\nb"}',
                "9" * 5000, json.dumps(_claim("F"))]
    document = "[\n" + ",\n".join(elements) + "\n]\n"
    records = list(read_json(io.StringIO(document), "f.json"))
    assert [r.number for r in records] == [1, 2, 3, 4, 5, 6]
    bad = [r.number for r in records if isinstance(r.data, ClaimError)]
    assert bad == [2, 4, 5]
    assert [r.data["claim_id"] for r in records if not isinstance(r.data, ClaimError)] == \
        ["A", "C", "F"]


def test_a_truncated_json_list_keeps_the_records_before_the_cut() -> None:
    document = "[" + json.dumps(_claim("A")) + ", " + json.dumps(_claim("B"))[:20]
    records = list(read_json([document], "f.json"))
    assert records[0].data["claim_id"] == "A"
    assert records[1].data.issues[0].type == "json_truncated"


def test_a_json_list_streams_with_flat_memory() -> None:
    """Held: one element at a time. A 1 MB list never needs more than a fraction of it."""
    import tracemalloc

    element = json.dumps(_claim("C")).encode()

    def chunks() -> Any:
        yield b"["
        for _ in range(10_000):
            yield element + b","
        yield element + b"]"

    tracemalloc.start()
    count = sum(1 for _ in read_json(chunks(), "f.json"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 10_001
    assert peak < 300_000, peak


def test_a_json_element_over_the_limit_is_skipped_and_counted() -> None:
    big = b'{"claim_id": "' + b"x" * (MAX_RECORD_BYTES + 5) + b'"}'
    chunks = [b"[", big[: 1 << 20]] + [big[i: i + (1 << 20)] for i in
                                       range(1 << 20, len(big), 1 << 20)]
    chunks += [b", " + json.dumps(_claim("B")).encode() + b"]"]
    records = list(read_json(chunks, "f.json"))
    assert records[0].data.issues[0].type == "record_too_large"
    assert records[1].data["claim_id"] == "B"


@pytest.mark.parametrize(("row", "kind"), [
    ("B,medicare,77385,2025-03-03,²", "int_parsing"),
    ("B,medicare,77385,2025-03-03," + "9" * 200_000, "row_too_long"),
    ('B,medicare,77385,2025-03-03,"' + "x" * 70_000 + "\n" + "x" * 70_000 + '"', "csv_invalid"),
])
def test_a_damaged_csv_row_is_its_own_error_and_the_next_rows_are_read(row: str, kind: str
                                                                       ) -> None:
    text = ("claim_id,payer,code,date_of_service,units\nA,medicare,77385,2025-03-03,1\n"
            f"{row}\nC,medicare,77385,2025-03-03,2\n")
    records = [r if isinstance(r.data, ClaimError)
               else r._replace(data=parse_claim(r.data, source=r.source, record=r.number))
               for r in read_csv(io.StringIO(text), "f.csv")]
    decided = [r.data.claim_id for r in records if not isinstance(r.data, ClaimError)]
    errors = [r.data for r in records if isinstance(r.data, ClaimError)]
    assert decided == ["A", "C"]
    assert [issue.type for error in errors for issue in error.issues] == [kind]
    assert errors[0].record == 3


def test_a_damaged_row_inside_a_claim_makes_the_claim_an_error() -> None:
    """A claim is never decided with one of its rows missing."""
    text = (b"claim_id,payer,code,date_of_service\nA,medicare,77385,2025-03-03\n"
            b"\xff\xfe,medicare,G6001,2025-03-03\nA,medicare,77014,2025-03-03\n"
            b"B,medicare,77385,2025-03-03\n")
    records = list(read_csv(io.BytesIO(text), "f.csv"))
    assert isinstance(records[0].data, ClaimError) and records[0].data.claim_id == "A"
    assert "row 3" in records[0].data.issues[0].reason
    assert records[1].data["claim_id"] == "B"


_CR_ROWS = ["claim_id,payer,code,date_of_service,units", "A,medicare,77385,2025-03-03,1",
            'B,medicare,"77385",2025-03-04,1', "C,medicare,G6001,2025-03-05,2"]


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_csv_rows_are_read_whatever_their_line_ends(end: str) -> None:
    """Excel's "CSV (Macintosh)" ends lines with a CR alone: the line reader, which splits at
    LF, saw one line, and the csv module's "new-line character seen in unquoted field" stopped
    the file as an internal error. Every row is a record, numbered by its line."""
    data = end.join(_CR_ROWS).encode() + end.encode()
    records = list(read_csv(bounded_lines(io.BytesIO(data)), "f.csv"))
    assert [(r.number, r.data["claim_id"]) for r in records] == [(2, "A"), (3, "B"), (4, "C")]
    assert records[2].data["lines"] == [{"code": "G6001", "date_of_service": "2025-03-05",
                                         "units": 2}]
    assert [r.data["claim_id"] for r in read_csv(io.StringIO(end.join(_CR_ROWS)), "f.csv")] \
        == ["A", "B", "C"]


def test_a_csv_of_cr_line_ends_longer_than_the_line_limit_says_what_was_not_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """bounded_lines cuts a CR-only file (one line to it) at the limit: the rows read whole are
    records, the cut row and the rest are one error, never a row decided from half its text."""
    monkeypatch.setattr(inputs, "MAX_RECORD_BYTES", 100)
    data = ("\r".join(_CR_ROWS) + "\r" + "D,medicare,77385,2025-03-06,1\r").encode()
    records = list(read_csv(bounded_lines(io.BytesIO(data), limit=100), "f.csv"))
    assert [r.data["claim_id"] for r in records[:-1]] == ["A"]
    [issue] = records[-1].data.issues
    assert (records[-1].number, issue.type) == (3, "row_too_long")
    assert "rows from row 3 on were not read" in issue.reason


def test_a_utf16_csv_is_one_error_that_says_utf16() -> None:
    """Excel's "Unicode Text" export: the header error said "invalid UTF-8 at byte 1", which
    does not tell the analyst what the file is."""
    data = "\n".join(_CR_ROWS).encode("utf-16")
    [record] = read_csv(bounded_lines(io.BytesIO(data)), "f.csv")
    [issue] = record.data.issues
    assert issue.type == "invalid_utf8" and "the file is UTF-16" in issue.reason


def test_a_csv_header_the_csv_module_cannot_read_is_an_error_not_an_internal_error() -> None:
    header = 'claim_id,"' + "x" * 70_000 + "\n" + "x" * 70_000 + '"\n'  # a field over the limit
    [record] = read_csv(io.StringIO(header + "A,medicare\n"), "f.csv")
    assert isinstance(record.data, ClaimError)
    assert [issue.type for issue in record.data.issues] == ["csv_invalid"]


# --- messages that name, not echo ------------------------------------------------------------

def test_quote_escapes_control_characters_and_describes_long_values() -> None:
    assert quote("ab\x1b[2J") == "'ab\\x1b[2J'"
    assert quote("\u202eevil") == "'\\u202eevil'"
    assert quote("x" * 41) == "a text of 41 characters"
    assert quote(10**5000).startswith("an integer of 5001 digits")
    assert printable("a\ud800b") == "a\\ud800b"


def test_a_newline_in_a_claim_id_cannot_forge_a_line_of_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl([_claim("C1\nerror: forged", payer="nope"),
                            _claim("C2\r\x1b[31mred", lines=[dict(GOOD_LINE, line_id="1\n2")])]))
    status, out, err = _check(capsys, path)
    assert status == cli.EXIT_INVALID
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        f"error: {path}: record 1 (claim C1\\nerror: forged): payer: 'nope': Input should be "
        "'medicare', 'medicaid' or 'commercial'"]
    rows = out.splitlines()
    assert not any("\x1b" in row or "\r" in row for row in rows)
    assert any(row.startswith("C2[31mred") for row in rows)


def test_json_error_output_escapes_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(_jsonl([_claim("C1\u2028\x00é", payer="nope")]))
    _, out, _ = _check(capsys, path, "--format", "json")
    assert out.isascii() and "\x00" not in out
    assert json.loads(out)["errors"][0]["claim_id"] == "C1\u2028\x00é"


def test_a_patient_id_is_never_repeated_in_a_message() -> None:
    error = parse_claim(_claim("C1", patient_id=["MBR-1234"]))
    assert isinstance(error, ClaimError) and "MBR" not in str(error)
    rows = ("claim_id,payer,code,date_of_service,patient_id\n"
            "A,medicare,77385,2025-03-03,MBR-1\nA,medicare,77385,2025-03-03,MBR-2\n")
    [record] = read_csv(io.StringIO(rows), "f.csv")
    assert isinstance(record.data, ClaimError) and "MBR" not in str(record.data)
    assert record.data.issues[0].type == "csv_claim_field_conflict"


def test_every_issue_of_a_claim_carries_a_slug() -> None:
    error = parse_claim({"claim_id": "A", "payer": "x", "colour": 1,
                         "lines": [{"code": "1", "date_of_service": "2025-02-30"}]})
    assert isinstance(error, ClaimError)
    assert {issue.field: issue.type for issue in error.issues} == {
        "payer": "enum", "colour": "extra_forbidden", "lines.0.code": "code_invalid",
        "lines.0.date_of_service": "date_of_service_invalid"}


# --- empty and suspicious input is said ------------------------------------------------------

def test_empty_files_header_only_csvs_and_duplicate_claim_ids_are_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    header = tmp_path / "header.csv"
    header.write_text("claim_id,payer,code,date_of_service\n")
    claims = tmp_path / "claims.jsonl"
    claims.write_text(_jsonl([_claim("C1"), _claim("C2"), _claim("C1")]))
    status, out, err = _check(capsys, empty, header, claims, "--format", "json")
    assert status == cli.EXIT_OK  # warnings are not errors
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {empty}: an empty file",
        f"warning: {header}: a CSV header and no rows",
        f"warning: {claims}: record 3: claim id 'C1' was already seen in this run",
    ]
    summary = json.loads(out)["summary"]
    assert summary["warnings"] == 3 and len(summary["warning_messages"]) == 3
    assert len(json.loads(out)["results"]) == 3  # a duplicate is still decided


# --- exit status: one meaning each, said the same everywhere ----------------------------------

def test_readme_help_and_docstring_give_the_same_exit_statuses(
    capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    help_text = capsys.readouterr().out
    docstring = cli.__doc__ or ""
    for text in (readme, help_text, docstring):
        flat = " ".join(text.split())
        assert re.search(r"0 every record (was )?decided", flat), text[:200]
        assert re.search(r"1 some (input )?records (were )?invalid", flat)
        assert re.search(r"2 (a )?usage error, (a )?broken rule pack, (a )?missing extra", flat)
        assert "internal error" in flat


def test_an_adapter_crash_is_an_error_record_and_the_next_file_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever the FHIR reader does with a Bundle whose entry is a number (it crashed), the run
    reports that file and reads the next one."""
    pytest.importorskip("fhir.resources")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": 5}))
    claims = tmp_path / "claims.jsonl"
    claims.write_text(_jsonl([_claim("C1")]))
    status, out, err = _check(capsys, bundle, claims, "--format", "jsonl")
    results, errors = _results(out)
    assert status == cli.EXIT_INVALID
    assert [r["claim_id"] for r in results] == ["C1"]
    assert [e["source"] for e in errors] == [str(bundle)]
    assert "Traceback" not in err


def test_a_csv_claim_over_the_line_limit_is_one_error() -> None:
    rows = "".join(f"BIG,medicare,77385,2025-03-03,{n}\n" for n in range(100_002))
    text = "claim_id,payer,code,date_of_service,line_id\n" + rows + \
        "NEXT,medicare,77385,2025-03-03,1\n"
    records = list(read_csv(io.StringIO(text), "f.csv"))
    assert isinstance(records[0].data, ClaimError)
    assert [issue.type for issue in records[0].data.issues] == ["too_many_lines"]
    assert records[1].data["claim_id"] == "NEXT"
