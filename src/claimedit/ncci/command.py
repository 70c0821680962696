"""``claimedit ncci import``: the command line of the importer (registered by :mod:`claimedit.cli`).

    claimedit ncci import --setting practitioner|outpatient-hospital --ptp FILE [FILE ...]
        [--mue FILE] [--payers medicare[,medicaid]] [--quarter YYYYQn] [--skip-bad-rows] --out DIR

Exit status as for every command: 0 the pack was written (rows skipped with ``--skip-bad-rows``
are listed on stderr and in ``pack.yaml``); 1 rows could not be read, each listed with file and
line, and no pack was written; 2 a usage error (a missing file, a wrong setting, an unknown
quarter).

Example:
    >>> parser = argparse.ArgumentParser(prog="claimedit")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["ncci", "import", "--setting", "practitioner", "--ptp", "f1.txt",
    ...                    "--out", "pack"]).payers
    ['medicare']
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from claimedit.ncci.importer import PAYERS, SETTINGS, NcciImportError, import_ncci

__all__ = ["register"]

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2  # as claimedit.cli's (which imports this module)


def register(commands: Any) -> None:
    """Add ``ncci import`` to the ``claimedit`` sub-commands."""
    ncci = commands.add_parser("ncci", help="import the CMS NCCI tables as a rule pack")
    ncci_commands = ncci.add_subparsers(dest="ncci_command", required=True)
    command = ncci_commands.add_parser(
        "import", help="read CMS PTP and MUE files (text, CSV or zip) and write a rule pack",
        epilog="example (illustrative): claimedit ncci import --setting practitioner "
               "--ptp ccipra-v302r0-f1.zip ccipra-v302r0-f2.zip ccipra-v302r0-f3.zip "
               "ccipra-v302r0-f4.zip --mue medicare-ncci-2024-q3-practitioner-services-mue-"
               "table.zip --out packs/ncci-practitioner")
    command.add_argument("--setting", required=True, choices=sorted(SETTINGS),
                         help="which NCCI tables: practitioner or outpatient hospital")
    command.add_argument("--ptp", nargs="+", default=[], metavar="FILE",  # none: MUE only
                         help="PTP files as CMS ships them (.txt or .zip), e.g. the four "
                              "ccipra-v<NNN>r0-f<n> files")
    command.add_argument("--mue", metavar="FILE",
                         help="the MUE file (.csv or .zip) (default: none, PTP only)")
    command.add_argument("--payers", type=_payers, default=["medicare"],
                         help="payer types the edits apply to, comma-separated "
                              f"({', '.join(PAYERS)}; default medicare)")
    command.add_argument("--quarter", metavar="YYYYQn",
                         help="the tables' quarter (default: from the CMS file names)")
    command.add_argument("--skip-bad-rows", action="store_true",
                         help="import the readable rows and list the others (default: fail)")
    command.add_argument("--out", required=True, metavar="DIR", help="the pack directory")
    command.set_defaults(run=_run)


def _payers(text: str) -> list[str]:
    payers = [item.strip().lower() for item in text.split(",") if item.strip()]
    unknown = [payer for payer in payers if payer not in PAYERS]
    if unknown or not payers:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected payer types from {', '.join(PAYERS)}, comma-separated")
    return payers


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        report = import_ncci(setting=args.setting, ptp=args.ptp, mue=args.mue, out=args.out,
                             payers=args.payers, skip_bad_rows=args.skip_bad_rows,
                             quarter=args.quarter)
    except NcciImportError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID if exc.bad_rows else EXIT_ERROR
    for problem in report.skipped[:50]:
        print(f"skipped: {problem}", file=sys.stderr)
    if len(report.skipped) > 50:
        print(f"skipped: ... and {len(report.skipped) - 50} more", file=sys.stderr)
    print(f"wrote {report.out}: {report.ptp_rows} PTP rows, {report.mue_rows} MUE codes, "
          f"{report.quarter}, {len(report.skipped)} rows skipped, {report.content_hash} "
          f"({time.perf_counter() - started:.1f} s)")
    return EXIT_OK
