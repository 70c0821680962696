"""The readers take the files in CMS's layouts and report every unreadable row with its file and
line, reading on past it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimedit.ncci.readers import RowProblem, read_mue, read_ptp
from claimedit.ncci.synthetic import PTP_HEADER, mue_text, ptp_text
from claimedit.ncci.table import (
    NO_DELETION,
    MueLimit,
    PairRow,
    PtpColumns,
    PtpTable,
    number_code,
    write_ptp_table,
)

FIRST_ROW_LINE = len(PTP_HEADER) + 1


def _ptp(*lines: str) -> tuple[PtpColumns, list[RowProblem]]:
    rows, problems = PtpColumns(), []
    # Latin-1 bytes, decoded as the importer decodes them, CRLF kept as CMS writes it
    text = io.TextIOWrapper(io.BytesIO(ptp_text(lines).encode("latin-1")), "latin-1",
                            newline="")
    read_ptp(text, "ccipra-v302r0-f1.txt", rows, problems)
    return rows, problems


def test_ptp_rows_after_the_wrapped_header() -> None:
    rows, problems = _ptp("77014\tG6001\t\t20150101\t*\t1\tMutually exclusive procedures",
                          "G6002\tG6001\t*\t19960101\t20231231\t0\tMisuse of column two code")
    assert problems == []
    assert len(rows) == 2
    assert [number_code(key & ((1 << 26) - 1)) for key in rows.keys] == ["77014", "G6002"]
    assert [number_code(key >> 26) for key in rows.keys] == ["G6001", "G6001"]
    assert list(rows.effective) == [20150101, 19960101]
    assert list(rows.deletion) == [NO_DELETION, 20231231]
    assert [flag & 0x0F for flag in rows.flags] == [1, 0]
    assert [bool(flag & 0x10) for flag in rows.flags] == [False, True]


def test_ptp_rationale_is_latin_1() -> None:
    rows, problems = _ptp("77014\tG6001\t\t20150101\t*\t1\tProc\u00e9dure exclusive")
    assert problems == [] and list(rows.texts) == ["Proc\u00e9dure exclusive"]


@pytest.mark.parametrize(("line", "message"), [
    ("77014\tG6001\t\t2015010\t*\t1\tx", "effective date '2015010' is not a date YYYYMMDD"),
    ("77014\tG6001\t\t20150231\t*\t1\tx", "effective date '20150231' is not a date YYYYMMDD"),
    ("77014\tG6001\t\t20150101\t2015-12-31\t1\tx",
     "deletion date '2015-12-31' is not a date YYYYMMDD or '*'"),
    ("77014\tG6001\t\t20150101\t20141231\t1\tx",
     "deletion date 20141231 is before the effective date 20150101"),
    ("7701\tG6001\t\t20150101\t*\t1\tx", "column 1 code '7701' is not a CPT/HCPCS code"),
    ("77014\tG60_1\t\t20150101\t*\t1\tx", "column 2 code 'G60_1' is not a CPT/HCPCS code"),
    ("77014\tG6001\t\t20150101\t*\t2\tx", "modifier indicator '2' is not 0, 1 or 9"),
    ("77014\tG6001\tY\t20150101\t*\t1\tx", "pre-1996 flag 'Y' is not '*' or empty"),
    ("77014\tG6001\t20150101\t*", "4 tab-separated fields, expected 7"),
])
def test_ptp_bad_row_reported_with_file_and_line(line: str, message: str) -> None:
    rows, problems = _ptp("G6002\tG6001\t\t20150101\t*\t0\tok", line,
                          "G6002\tG6017\t\t20150101\t*\t1\tok")
    assert [str(problem) for problem in problems] == [
        f"ccipra-v302r0-f1.txt:{FIRST_ROW_LINE + 1}: {message}"]
    assert len(rows) == 2  # the rows around it are read


def test_ptp_every_fault_of_a_row_in_one_message() -> None:
    _, problems = _ptp("7701\tG6001\t\t2015\t*\t7\tx")
    assert problems[0].message == ("column 1 code '7701' is not a CPT/HCPCS code; effective "
                                   "date '2015' is not a date YYYYMMDD; modifier indicator '7' "
                                   "is not 0, 1 or 9")


def test_ptp_long_values_are_cut_in_messages() -> None:
    _, problems = _ptp("77014\tG6001\t\t" + "9" * 500 + "\t*\t1\tx")
    assert len(problems[0].message) < 120


def test_ptp_without_header_is_one_file_problem() -> None:
    rows, problems = PtpColumns(), []
    read_ptp(io.StringIO("77014\tG6001\t\t20150101\t*\t1\tx\n"), "notes.txt", rows, problems)
    assert len(rows) == 0
    assert problems == [RowProblem("notes.txt", None, "no PTP header ('Column 1', 'Column 2') "
                                                      "in the first 40 lines")]


def test_ptp_blank_lines_are_skipped() -> None:
    rows, problems = _ptp("77014\tG6001\t\t20150101\t*\t1\tx", "", "   ")
    assert problems == [] and len(rows) == 1


def _mue(rows: list[MueLimit | list[str]], setting: str = "practitioner",
         ) -> tuple[list[MueLimit], list[RowProblem], str | None]:
    limits: list[MueLimit] = []
    problems: list[RowProblem] = []
    text = io.TextIOWrapper(io.BytesIO(mue_text(rows, setting).encode("latin-1")), "latin-1",
                            newline="")
    named = read_mue(text, "mue.csv", limits, problems)
    return limits, problems, named


def test_mue_layout_with_multiline_notice_and_header() -> None:
    text = mue_text([MueLimit("G6001", 2, 3, "Clinical: Data")])
    assert text.startswith('"Synthetic MUE table') and '"HCPCS/\nCPT Code"' in text
    assert "3 Date of Service Edit: Clinical" in text
    limits, problems, setting = _mue([MueLimit("G6001", 2, 3, "Clinical: Data"),
                                      MueLimit("77387", 1, 2, "Nature of Service/Procedure"),
                                      MueLimit("77014", 4, 1, "Anatomic Consideration")])
    assert problems == [] and setting == "practitioner"
    assert limits == [MueLimit("G6001", 2, 3, "Clinical: Data"),
                      MueLimit("77387", 1, 2, "Nature of Service/Procedure"),
                      MueLimit("77014", 4, 1, "Anatomic Consideration")]


def test_mue_outpatient_hospital_header() -> None:
    _, _, setting = _mue([MueLimit("G6001", 2, 3, "x")], "outpatient-hospital")
    assert setting == "outpatient-hospital"


def test_mue_bad_rows_reported_with_physical_line() -> None:
    # The notice cell spans 2 lines and the header 2 more: the first row is on line 5.
    limits, problems, _ = _mue([
        MueLimit("G6001", 2, 3, "x"),
        ["77014", "two", "3 Date of Service Edit: Clinical", "x"],
        ["77387", "1", "Date of Service Edit", "x"],
        ["7738", "1", "1 Line Edit", "x"],
        ["G6001", "1", "1 Line Edit", "x"],
        ["77401"],
        MueLimit("77402", 2, 3, "x"),
    ])
    assert [str(problem) for problem in problems] == [
        "mue.csv:6: MUE value 'two' is not a whole number of units",
        "mue.csv:7: MUE adjudication indicator 'Date of Service Edit' does not start with 1, "
        "2 or 3",
        "mue.csv:8: code '7738' is not a CPT/HCPCS code",
        "mue.csv:9: code G6001 is listed twice (first at line 5)",
        "mue.csv:10: 1 comma-separated fields, expected 4",
    ]
    assert [limit.code for limit in limits] == ["G6001", "77402"]


def test_mue_without_header_is_one_file_problem() -> None:
    limits: list[MueLimit] = []
    problems: list[RowProblem] = []
    read_mue(io.StringIO("G6001,2,3 Date of Service Edit: Clinical,x\n"), "x.csv", limits,
             problems)
    assert limits == [] and problems[0].line is None


ROW_CODES = st.sampled_from(["G6001", "G6002", "77014", "0001U", "A1234", "99213"])


@st.composite
def pair_rows(draw: st.DrawFn) -> PairRow:
    effective = draw(st.dates(dt.date(1996, 1, 1), dt.date(2030, 12, 31)))
    deletion = draw(st.none() | st.dates(effective, dt.date(2030, 12, 31)))
    rationale = draw(st.text(st.characters(min_codepoint=32, max_codepoint=255,
                                           blacklist_characters="\t\x7f"), max_size=30))
    return PairRow(draw(ROW_CODES), draw(ROW_CODES), effective, deletion, draw(st.booleans()),
                   draw(st.sampled_from([0, 1, 9])), rationale.strip())


@settings(max_examples=40)
@given(rows=st.lists(pair_rows(), max_size=20))
def test_ptp_file_round_trip(tmp_path_factory: pytest.TempPathFactory,
                             rows: list[PairRow]) -> None:
    """Rows written in the CMS layout (Latin-1, CRLF) read back as they were, in order."""
    columns, problems = PtpColumns(), []
    text = io.TextIOWrapper(io.BytesIO(ptp_text(rows).encode("latin-1")), "latin-1", newline="")
    read_ptp(text, "f.txt", columns, problems)
    assert problems == []
    path = tmp_path_factory.mktemp("t") / "ptp.bin"
    write_ptp_table(path, columns, {})
    assert sorted(PtpTable.open(path)) == sorted(rows)
