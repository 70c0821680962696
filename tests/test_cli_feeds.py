"""``claimedit check`` for real feeds: ``-o/--output``, the progress line, ``--validate``, X12
files in the encodings they declare (in process, through ``main``; one subprocess for a terminal
that is not one)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claimedit.cli import EXIT_ERROR, EXIT_INVALID, EXIT_OK, main
from claimedit.progress import Progress, wanted

DATA = Path(__file__).resolve().parent / "data"
P837 = DATA / "igrt_837p.x12"


def test_output_file_holds_the_results_and_stdout_stays_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "results.jsonl"
    assert main(["check", str(P837), "--format", "jsonl", "-o", str(target)]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line["claim_id"] for line in lines][:2] == ["P-1001", "P-1002"]
    assert len(lines) == 7
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_output_file_is_not_touched_by_a_failed_run_and_never_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "results.json"
    target.write_text("earlier\n", encoding="utf-8")
    assert main(["check", str(P837), "--rules", str(tmp_path / "no-such-pack"),
                 "-o", str(target)]) == EXIT_ERROR
    assert target.read_text(encoding="utf-8") == "earlier\n"
    copy = tmp_path / "claims.x12"
    copy.write_bytes(P837.read_bytes())
    assert main(["check", str(copy), "-o", str(copy)]) == EXIT_ERROR
    assert "is also an input file" in capsys.readouterr().err
    assert copy.read_bytes() == P837.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_output_to_a_device_writes_to_it_and_leaves_it_a_device(tmp_path: Path) -> None:
    assert main(["check", str(P837), "-o", os.devnull]) == EXIT_OK
    assert not Path(os.devnull).is_file()


def test_progress_line_only_when_asked_or_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wanted(None, Terminal()) and not wanted(None, io.StringIO())
    assert wanted(True, io.StringIO()) and not wanted(False, Terminal())
    stream = io.StringIO()
    progress = Progress(stream, interval=0.0)
    for k in range(3):
        progress.update("a.x12", invalid=k == 1)
    progress.close()
    shown = stream.getvalue()
    assert "3 records (1 invalid)" in shown and "a.x12" in shown
    assert shown.endswith("\r")  # cleared for the summary


def test_progress_is_forced_on_and_off_and_off_in_a_pipe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", str(P837), "--format", "jsonl", "--progress"]) == EXIT_OK
    assert "records (0 invalid)" in capsys.readouterr().err
    assert main(["check", str(P837), "--format", "jsonl", "--no-progress"]) == EXIT_OK
    assert "records (" not in capsys.readouterr().err
    done = subprocess.run([sys.executable, "-m", "claimedit", "check", str(P837)],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == EXIT_OK
    assert "records (" not in done.stderr  # stderr is a pipe: no progress line


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_x12_in_the_encoding_it_declares(encoding: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "claims.edi"
    path.write_bytes(P837.read_text(encoding="ascii").encode(encoding))
    assert main(["check", str(path), "--format", "jsonl"]) == EXIT_OK
    assert len(capsys.readouterr().out.splitlines()) == 7


def test_x12_that_is_not_what_it_declares_is_refused_whole_with_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    text = P837.read_text(encoding="ascii")
    text = text.replace("CLM*P-2003", "CLM*P-2\u00e9003")  # a Latin-1 byte in the last claim
    path = tmp_path / "latin1.x12"
    path.write_bytes(text.encode("latin-1"))
    assert main(["check", str(path), "--format", "jsonl"]) == EXIT_INVALID
    captured = capsys.readouterr()
    # Refused whole: one error record, not six claims and then an error.
    [record] = [json.loads(line) for line in captured.out.splitlines()]
    assert record["error"]["record"] == 0
    [error] = [line for line in captured.err.splitlines() if line.startswith("error")]
    assert "is not utf-8" in error and "iconv" in error


def test_validate_attaches_pyx12_findings_to_the_claims(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("pyx12", reason="--validate needs the x12 extra")
    path = DATA / "igrt_837p_malformed.x12"
    assert main(["check", str(path), "--format", "jsonl", "--validate"]) == EXIT_INVALID
    [p1002] = [line for line in capsys.readouterr().err.splitlines() if "(claim P-1002)" in line]
    assert "2400[2] SV101-1 (segment 35)" in p1002  # the reader's
    assert "2400 (segment 35): pyx12: Segment SV1 not found" in p1002  # pyx12's
    # An A2 file validates against pyx12's A1 map (the version rewritten for pyx12 alone).
    assert main(["check", str(DATA / "lfh_837p_a2_example1.837"), "--format", "jsonl",
                 "--validate"]) in (EXIT_OK, EXIT_INVALID)
    assert "Map not found" not in capsys.readouterr().err


def test_an_837_cut_in_half_decides_what_came_before_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    text = P837.read_text(encoding="ascii")
    path = tmp_path / "cut.x12"
    half = text.index("SV1*HC:G6001:TC")  # about half way, inside claim P-1004
    path.write_text(text[:half], encoding="ascii")
    assert main(["check", str(path), "--format", "jsonl"]) == EXIT_INVALID
    captured = capsys.readouterr()
    printed = [json.loads(line) for line in captured.out.splitlines()]
    assert [p["claim_id"] for p in printed if "error" not in p] == ["P-1001", "P-1002", "P-1003"]
    errors = [p["error"] for p in printed if "error" in p]
    assert errors[0]["claim_id"] == "P-1004"
    assert any("cut off" in issue["reason"] for issue in errors[0]["issues"])
    assert [e["issues"][0]["field"].split()[0] for e in errors[1:]] == ["SE", "GE", "IEA"]
    assert "record 4 (claim P-1004)" in captured.err


def test_a_file_ending_in_file_level_errors_is_not_warned_about_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The SE/GE/IEA faults of a cut file are records numbered 0 (outside every claim). The run
    loop took the last record's number as the count of records read, so a file of three decided
    claims ended with "warning: ...: no records" and a warning in the summary."""
    text = P837.read_text(encoding="ascii")
    path = tmp_path / "cut.x12"
    path.write_text(text[:text.index("SV1*HC:G6001:TC")], encoding="ascii")
    assert main(["check", str(path), "--format", "jsonl"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "warning" not in err
    assert "3 claims" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="ascii")
    assert main(["check", str(empty), "--format", "jsonl"]) == EXIT_OK
    assert "warning: " + str(empty) + ": an empty file" in capsys.readouterr().err


def test_check_reads_every_sample_837_to_a_result_or_an_error_per_claim(
    capsys: pytest.CaptureFixture[str],
) -> None:
    samples = sorted([*DATA.glob("*.x12"), *DATA.glob("lfh_*"), *DATA.glob("oopfactory_*")])
    assert len(samples) == 9
    status = main(["check", *map(str, samples), "--format", "jsonl", "--no-progress"])
    captured = capsys.readouterr()
    assert status == EXIT_INVALID  # the malformed fixture and the '>' sample hold bad claims
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    printed = [json.loads(line) for line in captured.out.splitlines()]
    named = [p["error"]["claim_id"] if "error" in p else p["claim_id"] for p in printed]
    clms = sum(path.read_text(encoding="utf-8-sig").count("CLM*") for path in samples)
    assert len(named) == clms and all(named)  # one record per claim, each naming its CLM01


class _Pipe(io.RawIOBase):
    """Bytes that can be read once and not sought, as from a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_validate_and_encodings_from_a_pipe(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyx12", reason="--validate needs the x12 extra")
    data = (DATA / "igrt_837p_malformed.x12").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(_Pipe(data))))
    assert main(["check", "-", "--format", "jsonl", "--validate"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "pyx12: Segment SV1 not found" in err  # validated from a spooled copy of the pipe
    assert "record 1" not in err  # and the file read once more for the claims: P-1001 decided
    # UTF-16 from a pipe: detected by its byte-order mark and read.
    text = P837.read_text(encoding="ascii").encode("utf-16")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(_Pipe(text))))
    assert main(["check", "-", "--format", "jsonl"]) == EXIT_OK
    assert len(capsys.readouterr().out.splitlines()) == 7


def test_the_table_shows_a_line_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(DATA / "igrt_837i.x12")]) == EXIT_OK
    [row] = [row for row in capsys.readouterr().out.splitlines() if "SV202" in row]
    assert row.split()[:3] == ["I-3002", "medicare", "-"]
    assert row.endswith("2400[3] SV202 (segment 54): revenue code '0250' without a HCPCS code: "
                        "the line is not evaluated")
