"""``claimedit ncci import``: CMS NCCI files in, a rule pack directory out.

The pack written::

    DIR/pack.yaml                   id, version (the quarter), and what was imported from where
    DIR/edits/ncci-<quarter>.yaml   the PTP and MUE edits: remittance codes, messages, citations,
                                    bypass modifiers, payers, and the table file each reads
    DIR/tables/ptp.bin, mue.bin     the tables (see :mod:`claimedit.ncci.table`)

Nothing in it depends on when or where the import ran (no timestamps, no directories), so the
same files give the same bytes and the same content hash.

Example:
    >>> import tempfile, pathlib
    >>> from claimedit.ncci.synthetic import write_ptp_files
    >>> work = pathlib.Path(tempfile.mkdtemp())
    >>> report = import_ncci(setting="practitioner", ptp=write_ptp_files(work / "in", 50),
    ...                      out=work / "pack")
    >>> report.ptp_rows, report.quarter, sorted(p.name for p in (work / "pack").iterdir())
    (50, '2024Q3', ['edits', 'pack.yaml', 'tables'])
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from claimedit.ncci.readers import RowProblem, read_mue, read_ptp
from claimedit.ncci.sources import (
    Member,
    SourceFile,
    describe,
    members,
    open_text,
    quarter_from_name,
)
from claimedit.ncci.table import MueLimit, PtpColumns, write_mue_table, write_ptp_table

__all__ = ["SETTINGS", "ImportReport", "NcciImportError", "import_ncci"]

SETTINGS = {"practitioner": "practitioner services",
            "outpatient-hospital": "outpatient hospital services"}
"""The NCCI settings an import takes, and how CMS names each."""
_CLAIM_TYPE = {"practitioner": "professional", "outpatient-hospital": "institutional"}
_PTP_PREFIX = {"ccipra": "practitioner", "ccioph": "outpatient-hospital"}
PAYERS = ("medicare", "medicaid", "commercial")
PTP_TABLE = "tables/ptp.bin"
MUE_TABLE = "tables/mue.bin"


class NcciImportError(Exception):
    """The import did not write a pack. ``problems`` lists every problem (file and line);
    ``bad_rows`` is True when the problems are unreadable rows (``--skip-bad-rows`` would
    import the rest), False when a file as a whole is wrong."""

    def __init__(self, problems: Sequence[RowProblem | str], *, bad_rows: bool) -> None:
        self.problems = tuple(problems)
        self.bad_rows = bad_rows
        noun = "unreadable row" if bad_rows else "problem"
        plural = "" if len(self.problems) == 1 else "s"
        shown = [f"  {problem}" for problem in self.problems[:_SHOWN_PROBLEMS]]
        if len(self.problems) > _SHOWN_PROBLEMS:
            shown.append(f"  ... and {len(self.problems) - _SHOWN_PROBLEMS} more")
        hint = " (--skip-bad-rows imports the others)" if bad_rows else ""
        super().__init__("\n".join(
            [f"ncci import: {len(self.problems)} {noun}{plural}, no pack written{hint}:", *shown]))


_SHOWN_PROBLEMS = 50
# A damaged archive or file: BadZipFile (and zlib's error, a CRC mismatch as BadZipFile),
# truncated data (EOFError), an encrypted member (RuntimeError), the disk (OSError).
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError)


@dataclass
class ImportReport:
    """What an import wrote."""

    out: Path
    quarter: str
    ptp_rows: int
    mue_rows: int
    skipped: list[RowProblem] = field(default_factory=list)
    """Rows not imported (``skip_bad_rows``), each with file and line."""
    content_hash: str = ""
    """sha256 over every file of the pack, as the rule-pack loader computes it."""


def import_ncci(
    *,
    setting: str,
    ptp: Sequence[str | Path],
    out: str | Path,
    mue: str | Path | None = None,
    payers: Sequence[str] = ("medicare",),
    skip_bad_rows: bool = False,
    quarter: str | None = None,
) -> ImportReport:
    """Read the PTP files (text or zip; several: CMS splits the practitioner table in four)
    and the MUE file, and write the pack to ``out`` (replacing a pack an earlier import
    wrote there). Raises :class:`NcciImportError` listing every problem; with
    ``skip_bad_rows`` unreadable rows are reported in :attr:`ImportReport.skipped` instead.
    """
    out = Path(out)
    usage = _check_arguments(setting, ptp, mue, payers, out)
    if usage:
        raise NcciImportError(usage, bad_rows=False)
    ptp_paths = sorted((Path(p) for p in ptp), key=lambda p: (p.name, str(p)))
    mue_path = Path(mue) if mue is not None else None

    problems: list[RowProblem] = []
    file_problems: list[RowProblem | str] = []
    rows = PtpColumns()
    ptp_sources: list[dict[str, Any]] = []
    for path in ptp_paths:
        prefix = next((key for key in _PTP_PREFIX if path.name.lower().startswith(key)), None)
        if prefix is not None and _PTP_PREFIX[prefix] != setting:
            file_problems.append(f"{path.name}: a {_PTP_PREFIX[prefix]} PTP table ({prefix}-*), "
                                 f"not {setting}")
            continue
        try:
            tables = members(path, ".txt")
        except _UNREADABLE as exc:
            file_problems.append(f"{path.name}: cannot read: {exc}")
            continue
        if not tables:
            file_problems.append(f"{path.name}: a zip archive without a .txt PTP table")
            continue
        before, read, damaged = len(rows), [], False
        for member in tables:
            found: list[RowProblem] = []
            try:
                with open_text(member) as text:
                    read_ptp(text, member.name, rows, found)
            except _UNREADABLE as exc:
                # nothing is written when a file cannot be read: the rows read so far go too
                file_problems.append(f"{member.name}: cannot read: {exc}")
                damaged = True
                continue
            if found and found[0].line is None:  # no header: not a PTP table
                if member.member is None:
                    file_problems.append(str(found[0]))
                continue  # a text member of an archive that is not the table (a read-me)
            read.append(member)
            problems += found
        if not read and not damaged:
            file_problems.append(f"{path.name}: no member is a PTP table (no 'Column 1' header)")
        ptp_sources.append(_source(describe(path, read), len(rows) - before))

    limits: list[MueLimit] = []
    mue_source: dict[str, Any] | None = None
    if mue_path is not None:
        mue_tables: list[Member] | None
        try:
            mue_tables = members(mue_path, ".csv")
        except _UNREADABLE as exc:
            file_problems.append(f"{mue_path.name}: cannot read: {exc}")
            mue_tables = None
        first_lines: dict[str, int] = {}
        read = []
        for member in mue_tables or ():
            found = []
            try:
                with open_text(member) as text:
                    named = read_mue(text, member.name, limits, found, first_lines)
            except (*_UNREADABLE, csv.Error) as exc:
                file_problems.append(f"{member.name}: cannot read: {exc}")
                continue
            if found and found[0].line is None:
                file_problems.append(str(found[0]))
                continue
            if named is not None and named != setting:
                file_problems.append(f"{member.name}: the header names {named} MUE values, "
                                     f"not {setting}")
            read.append(member)
            problems += found
        if mue_tables == []:
            file_problems.append(f"{mue_path.name}: a zip archive without a .csv MUE table")
        mue_source = _source(describe(mue_path, read), len(limits))

    quarter, quarter_problems = _quarter(quarter, [*ptp_paths, *filter(None, [mue_path])])
    file_problems += quarter_problems
    if file_problems:
        raise NcciImportError(file_problems, bad_rows=False)
    if problems and not skip_bad_rows:
        raise NcciImportError(problems, bad_rows=True)
    if not len(rows) and not limits:
        raise NcciImportError(["no rows read: nothing to import"], bad_rows=False)

    program = "Medicaid" if any("medicaid" in p.name.lower() for p in ptp_paths) else "Medicare"
    imported = {
        "setting": setting,
        "claim_type": _CLAIM_TYPE[setting],
        "program": program.lower(),
        "quarter": quarter,
        "payers": list(payers),
        "ptp": {"table": PTP_TABLE, "rows": len(rows), "files": ptp_sources} if len(rows)
        else None,
        "mue": None if mue_source is None else {
            "table": MUE_TABLE, "rows": len(limits), "files": [mue_source]},
        "rows_skipped": len(problems),
        "skipped": [str(problem) for problem in problems[:_SHOWN_PROBLEMS]],
    }
    staging = out.with_name(f".{out.name}.importing")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "tables").mkdir(parents=True)
    (staging / "edits").mkdir()
    info = {"setting": setting, "quarter": quarter, "program": program.lower()}
    if len(rows):
        write_ptp_table(staging / PTP_TABLE, rows, info)
    if mue_source is not None:
        write_mue_table(staging / MUE_TABLE, limits, info)
    _write_yaml(staging / "pack.yaml", _pack_yaml(imported, program))
    _write_yaml(staging / "edits" / f"ncci-{quarter.lower()}.yaml",
                _edits_yaml(imported, program, ptp_sources, mue_source))
    _replace(staging, out)
    return ImportReport(out, quarter, len(rows), len(limits), problems, pack_hash(out))


def _check_arguments(setting: str, ptp: Sequence[str | Path], mue: str | Path | None,
                     payers: Sequence[str], out: Path) -> list[RowProblem | str]:
    found: list[RowProblem | str] = []
    if setting not in SETTINGS:
        found.append(f"--setting {setting!r}: expected one of {', '.join(SETTINGS)}")
    if not ptp and mue is None:
        found.append("nothing to import: give --ptp FILE... and/or --mue FILE")
    for path in [*map(Path, ptp), *([Path(mue)] if mue is not None else [])]:
        if not path.is_file():
            found.append(f"{path}: no such file")
    for payer in payers:
        if payer not in PAYERS:
            found.append(f"--payers: unknown payer type {payer!r}; expected {', '.join(PAYERS)}")
    if not payers:
        found.append("--payers: name at least one payer type")
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or _imported(out))):
        found.append(f"{out}: exists and is not a pack an earlier import wrote; "
                     "give a new or empty directory")
    return found


def _imported(out: Path) -> bool:
    try:
        data = yaml.safe_load((out / "pack.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "imported_from" in data


def _source(described: SourceFile, rows: int) -> dict[str, Any]:
    data: dict[str, Any] = {"name": described.name, "size": described.size,
                            "sha256": described.sha256, "rows": rows}
    if described.members:
        data["members"] = list(described.members)
    return data


def _quarter(given: str | None, paths: Sequence[Path]) -> tuple[str, list[RowProblem | str]]:
    if given is not None:
        text = given.strip().upper().replace("-", "")
        if len(text) == 6 and text[:4].isdigit() and text[4] == "Q" and text[5] in "1234":
            return text, []
        return "", [f"--quarter {given!r}: expected YYYYQn, e.g. 2024Q3"]
    told = {path.name: quarter_from_name(path.name) for path in paths}
    quarters = {value for value in told.values() if value is not None}
    if len(quarters) == 1:
        return quarters.pop(), []
    if not quarters:
        return "", ["the file names do not tell the quarter (CMS names carry it, e.g. "
                    "ccipra-v302r0-f1.zip): give --quarter YYYYQn"]
    listed = ", ".join(f"{name}: {value}" for name, value in sorted(told.items()) if value)
    return "", [f"the files are from different quarters ({listed}): import one quarter at a "
                "time, or give --quarter YYYYQn"]


def _defaults() -> dict[str, Any]:
    text = resources.files("claimedit.ncci").joinpath("defaults.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _quarter_start(quarter: str) -> dt.date:
    return dt.date(int(quarter[:4]), 3 * int(quarter[5]) - 2, 1)


def _pack_yaml(imported: dict[str, Any], program: str) -> dict[str, Any]:
    setting = imported["setting"]
    quarter = imported["quarter"]
    return {
        "id": f"ncci-{setting}",
        "title": f"CMS {program} NCCI {SETTINGS[setting]} PTP and MUE tables, {quarter} "
                 "(imported)",
        "issuer": "Centers for Medicare & Medicaid Services (imported by claimedit ncci import)",
        "version": quarter.lower(),
        "history": [{"type": "Tables published", "date": _quarter_start(quarter),
                     "action": f"NCCI {quarter} tables"}],
        "references": [{"title": f"CMS {program} NCCI edits",
                        "url": "https://www.cms.gov/medicare/coding-billing/"
                               "national-correct-coding-initiative-ncci-edits"}],
        "imported_from": imported,
    }


def _edits_yaml(imported: dict[str, Any], program: str, ptp_sources: list[dict[str, Any]],
                mue_source: dict[str, Any] | None) -> dict[str, Any]:
    defaults = _defaults()
    setting, quarter = imported["setting"], imported["quarter"]
    words = {"program": program, "setting_label": SETTINGS[setting], "quarter": quarter}
    tag = f"{setting.upper()}-{imported['program'].upper()}"
    edits = []
    for kind, table, sources, rows, wanted in (
        ("ptp", PTP_TABLE, ptp_sources, imported["ptp"]["rows"] if imported["ptp"] else 0,
         True),
        ("mue", MUE_TABLE, [mue_source] if mue_source else [],
         imported["mue"]["rows"] if imported["mue"] else 0, mue_source is not None),
    ):
        if not wanted or not rows:
            continue
        spec = dict(defaults[kind])
        files = ", ".join(source["name"] for source in sources)
        citation = {key: value.format(files=files, **words) if isinstance(value, str) else value
                    for key, value in spec.pop("citation").items()}
        edit: dict[str, Any] = {
            "id": f"NCCI-{kind.upper()}-{tag}",
            "kind": f"{kind}_table_file",
            "table": table,
            "claim_types": [imported["claim_type"]],
            "payers": imported["payers"],
        }
        edit.update(spec)
        edit["citation"] = citation
        edits.append(edit)
    return {
        "revision": {
            "id": f"ncci-{setting}-{quarter.lower()}",
            "title": f"CMS {program} NCCI {SETTINGS[setting]}, {quarter}: the pairs and limits "
                     "carry their own dates",
            # Always: each PTP row carries its own dates; MUE rows carry none.
            "effective": {},
            "citation": {"document": f"CMS {program} NCCI edits, {quarter}",
                         "text": "Imported by claimedit ncci import from the files listed in "
                                 "pack.yaml (imported_from)."},
        },
        "edits": edits,
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML for people: no anchors, short lists of scalars on one line."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def represent_list(self, data: Any) -> yaml.SequenceNode:
        flow = all(isinstance(item, str | int) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text("# Written by claimedit ncci import.\n" + text, encoding="utf-8")


def _replace(staging: Path, out: Path) -> None:
    """Put the new pack in place of the old in two renames: never half a pack at ``out``."""
    old = out.with_name(f".{out.name}.replaced")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)


def pack_hash(root: Path) -> str:
    """sha256 over every file of a pack directory: its name in the pack and its bytes."""
    digest = hashlib.sha256()
    files = {path.relative_to(root).as_posix(): path
             for path in root.rglob("*") if path.is_file()}
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return f"sha256:{digest.hexdigest()}"
