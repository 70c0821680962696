"""``claimedit ncci import`` as a user runs it, in process (``tests/_cli.py``: ``cli.main`` with
its own standard streams): exit status and messages."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from _cli import run_cli

from claimedit.ncci.synthetic import write_mue_file, write_ptp_files
from claimedit.ncci.table import PairRow


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli(args)

BAD = "77014\tG6002\t\t20150101\tnever\t1\tx"


def test_import_reports_bad_rows_then_skips_them(tmp_path: Path) -> None:
    good = PairRow("G6002", "G6001", dt.date(2015, 1, 1), None, False, 0, "x")
    ptp = write_ptp_files(tmp_path / "in", [good, BAD], files=1, zipped=True)
    mue = write_mue_file(tmp_path / "in", 20, zipped=True)
    args = ["ncci", "import", "--setting", "practitioner", "--ptp", *ptp, "--mue", mue,
            "--out", tmp_path / "pack"]
    failed = run(*args)
    assert failed.returncode == 1, failed.stderr
    assert ("ccipra-v302r0-f1.zip!ccipra-v302r0-f1.TXT:8: deletion date 'never' is not a date "
            "YYYYMMDD or '*'") in failed.stderr
    assert not (tmp_path / "pack").exists()
    done = run(*args, "--skip-bad-rows", "--payers", "medicare,medicaid")
    assert done.returncode == 0, done.stderr
    assert "skipped: ccipra-v302r0-f1.zip!ccipra-v302r0-f1.TXT:8:" in done.stderr
    assert "1 PTP rows, 20 MUE codes, 2024Q3, 1 rows skipped, sha256:" in done.stdout
    usage = run("ncci", "import", "--setting", "practitioner", "--ptp", tmp_path / "nope.txt",
                "--out", tmp_path / "p2")
    assert usage.returncode == 2 and "nope.txt: no such file" in usage.stderr
