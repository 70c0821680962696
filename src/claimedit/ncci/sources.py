"""The files a user hands to ``claimedit ncci import``: plain text/CSV files or the zip archives
CMS ships them in, what the pack records about each, and the quarter their names tell.

Example:
    >>> quarter_from_name("ccipra-v303r0-f1.zip")
    '2024Q4'
    >>> quarter_from_name("medicare-ncci-2024-q3-practitioner-services-mue-table.zip")
    '2024Q3'
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple, TextIO

__all__ = ["Member", "SourceFile", "describe", "members", "quarter_from_name"]

# NCCI PTP versions count quarters: version 30.0 took effect 2024-01-01, 30.1 on 2024-04-01, ...
# (version N.q: year 1994 + N, quarter q + 1). File names carry it as v<N><q>r<revision>.
_PTP_VERSION = re.compile(r"v(\d{2})(\d)r\d+", re.IGNORECASE)
_YEAR_QUARTER = re.compile(r"(20\d\d)[-_ ]?q([1-4])|q([1-4])[-_ ]?(20\d\d)", re.IGNORECASE)


class SourceFile(NamedTuple):
    """What the pack records about a file given to the import."""

    name: str
    """The file's name (no directory: the same files give the same pack wherever they are)."""
    size: int
    sha256: str
    members: tuple[str, ...]
    """For a zip archive: the members read as tables."""


class Member(NamedTuple):
    """A table inside a given file: the file itself, or one member of a zip archive."""

    name: str
    """For messages: ``file.txt`` or ``archive.zip!member.txt``."""
    path: Path
    member: str | None


def members(path: Path, suffix: str) -> list[Member]:
    """The tables a file holds: itself, or the members of a zip archive ending in ``suffix``
    (case-insensitive; CMS writes ``.TXT``), sorted by name. The Excel copies CMS ships beside
    the text are not read."""
    if not zipfile.is_zipfile(path):
        return [Member(path.name, path, None)]
    with zipfile.ZipFile(path) as archive:
        names = sorted(
            info.filename for info in archive.infolist()
            if not info.is_dir() and info.filename.lower().endswith(suffix)
            and not info.filename.startswith("__MACOSX/")
        )
    return [Member(f"{path.name}!{name}", path, name) for name in names]


@contextmanager
def open_text(member: Member, encoding: str = "latin-1") -> Iterator[TextIO]:
    """The member as text; Latin-1 (CMS's encoding) decodes any byte, so a file never fails to
    decode: a wrong character shows up in a field and is reported there."""
    if member.member is None:
        with open(member.path, encoding=encoding, newline="") as handle:
            yield handle
        return
    with zipfile.ZipFile(member.path) as archive, archive.open(member.member) as raw:
        yield io.TextIOWrapper(raw, encoding=encoding, newline="")


def describe(path: Path, read: list[Member]) -> SourceFile:
    """Name, size, sha256 of a given file, and the members read from it."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return SourceFile(path.name, path.stat().st_size, f"sha256:{digest.hexdigest()}",
                      tuple(item.member for item in read if item.member is not None))


def quarter_from_name(name: str) -> str | None:
    """The quarter (``2024Q3``) a CMS file name tells, if any: the NCCI version of PTP files
    (``ccipra-v302r0-f1``: version 30.2, July 2024) or the year and quarter of MUE files."""
    found = _PTP_VERSION.search(name)
    if found:
        return f"{1994 + int(found.group(1))}Q{int(found.group(2)) + 1}"
    found = _YEAR_QUARTER.search(name)
    if found:
        year = found.group(1) or found.group(4)
        quarter = found.group(2) or found.group(3)
        return f"{year}Q{quarter}"
    return None
