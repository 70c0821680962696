"""The table files answer as the rows they were written from: checked against a naive look-up
over the rows themselves (hypothesis), and on the rows CMS's rules single out."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimedit.ncci.table import (
    MueLimit,
    MueTable,
    PairRow,
    PtpTable,
    TableFileError,
    write_mue_table,
    write_ptp_table,
)

D = dt.date
PLANTED = [
    PairRow("G6002", "G6001", D(2015, 1, 1), None, False, 0, "Mutually exclusive procedures"),
    PairRow("77014", "G6001", D(2015, 1, 1), None, False, 1, "Mutually exclusive procedures"),
    PairRow("77014", "77387", D(2015, 1, 1), D(2015, 1, 1), False, 9, "Misuse of column two"),
    PairRow("77371", "77427", D(2010, 1, 1), D(2023, 12, 31), True, 0, "Mutually exclusive"),
]


@pytest.fixture
def table(tmp_path: Path) -> PtpTable:
    write_ptp_table(tmp_path / "ptp.bin", PLANTED, {"setting": "practitioner"})
    return PtpTable.open(tmp_path / "ptp.bin")


def test_planted_rows(table: PtpTable) -> None:
    day = D(2024, 9, 3)
    assert table.in_force("G6002", "G6001", day) == PLANTED[0]
    assert table.in_force("77014", "G6001", day) == PLANTED[1]
    assert table.in_force("G6001", "G6002", day) is None  # the pair has an order
    # indicator 9, deletion date = effective date: never in force, not even on that day
    assert table.in_force("77014", "77387", D(2015, 1, 1)) is None
    # deleted 2023-12-31: in force that day, not the next
    assert table.in_force("77371", "77427", D(2023, 12, 31)) == PLANTED[3]
    assert table.in_force("77371", "77427", D(2024, 1, 1)) is None
    assert table.in_force("77371", "77427", D(2009, 12, 31)) is None


def test_pairs_of_a_code(table: PtpTable) -> None:
    assert table.pairs_of("77014") == [PLANTED[2], PLANTED[1]]  # column 2 rows first
    assert table.pairs_of("G6001", as_of=D(2025, 6, 2)) == [PLANTED[1], PLANTED[0]]
    assert table.pairs_of("77014", as_of=D(2025, 6, 2)) == [PLANTED[1]]
    assert table.pairs_of("99999") == [] and table.pairs_of("bad") == []


def test_table_pickles_as_its_path(table: PtpTable) -> None:
    copy = pickle.loads(pickle.dumps(table))
    assert copy.path == table.path and list(copy) == list(table)


def test_not_a_table_file(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"hello")
    with pytest.raises(TableFileError, match="not a claimedit NCCI table"):
        PtpTable.open(tmp_path / "x.bin")
    write_mue_table(tmp_path / "mue.bin", [MueLimit("G6001", 2, 3, "x")], {})
    with pytest.raises(TableFileError, match="a mue table, not ptp"):
        PtpTable.open(tmp_path / "mue.bin")
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(TableFileError):
        PtpTable.open(tmp_path / "empty.bin")


def test_mue_table(tmp_path: Path) -> None:
    limits = [MueLimit("G6001", 2, 3, "Clinical: Data"), MueLimit("77387", 1, 2, "Policy"),
              MueLimit("0001U", 0, 1, "Code Descriptor")]
    write_mue_table(tmp_path / "mue.bin", limits, {})
    table = MueTable.open(tmp_path / "mue.bin")
    assert len(table) == 3
    assert [table.limit(limit.code) for limit in limits] == limits
    assert table.limit("99213") is None
    assert pickle.loads(pickle.dumps(table)).limit("G6001") == limits[0]


CODES = st.sampled_from(["G6001", "G6002", "77014", "77387", "0001U", "ZZZZZ", "00000"])
DAYS = st.dates(D(1995, 1, 1), D(2030, 12, 31))


@st.composite
def pair_rows(draw: st.DrawFn) -> PairRow:
    effective = draw(DAYS)
    deletion = draw(st.none() | st.dates(effective, D(2030, 12, 31)))
    return PairRow(draw(CODES), draw(CODES), effective, deletion, draw(st.booleans()),
                   draw(st.sampled_from([0, 1, 9])), draw(st.sampled_from(["a", "b", "\u00e9"])))


@settings(max_examples=60)
@given(rows=st.lists(pair_rows(), max_size=25), column1=CODES, column2=CODES, day=DAYS)
def test_in_force_matches_the_rows(tmp_path_factory: pytest.TempPathFactory, rows: list[PairRow],
                                   column1: str, column2: str, day: dt.date) -> None:
    path = tmp_path_factory.mktemp("t") / "ptp.bin"
    assert write_ptp_table(path, rows, {}) == len(rows)
    table = PtpTable.open(path)
    expected = [row for row in rows if row.column1 == column1 and row.column2 == column2
                and row.modifier_indicator != 9 and row.effective <= day
                and (row.deletion is None or day <= row.deletion)]
    found = table.in_force(column1, column2, day)
    assert (found is None) == (not expected)
    if found is not None:
        assert found in expected
    assert sorted(table) == sorted(rows)  # nothing lost, nothing changed
    assert sorted(table.pairs_of(column2)) == sorted(
        row for row in rows if column2 in (row.column1, row.column2)
        for _ in range(2 if row.column1 == row.column2 == column2 else 1))



def test_partners_of_a_code(table: PtpTable) -> None:
    # every column-1 code paired with the code, whatever the dates and the indicator
    assert table.partners("G6001") == {"G6002", "77014"}
    assert table.partners("77387") == {"77014"}
    assert table.partners("77014") == frozenset()  # column 1 only
    assert table.partners("bad") == frozenset() and table.partners("0000") == frozenset()
