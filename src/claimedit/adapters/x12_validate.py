"""pyx12's 5010 implementation-guide validation of an 837, for ``claimedit check --validate``
(the ``x12`` extra).

claimedit's own reader (:mod:`claimedit.adapters.x12`) checks what it relies on and the envelope;
this module adds what the implementation guide requires of every segment and element (usage,
lengths, code values, loop repeats, situational rules pyx12 encodes), as findings keyed by segment
number. :func:`claimedit.adapters.x12.read_x12` attaches them (``findings=``) to the claim each
falls in; a finding outside every claim is an error record numbered 0.

Versions: pyx12 4 has maps for ``005010X222A1`` (837P) and ``005010X223A2`` (837I) only. Files
of other 5010 errata (837P ``A2``, 837I ``A3``, or no suffix) are validated against those maps:
the version in GS08 and ST03 is rewritten for pyx12 alone (segment numbers stay the same). The
rules the later errata changed are then checked as the earlier errata wrote them; see
``docs/interoperability.md`` ("What --validate does not check") for the list.

Example:
    >>> from pathlib import Path
    >>> findings = validate_x12(Path("tests/data/igrt_837p_malformed.x12"))
    >>> [(issue.field, issue.reason[:28]) for issue in findings[35]]
    [('2400 (segment 35)', 'pyx12: Segment SV1 not found')]
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from claimedit.adapters import MissingExtraError
from claimedit.adapters.x12 import _Fault, _Segments, _text_chunks
from claimedit.results import FieldIssue

try:
    import pyx12.error_handler  # type: ignore[import-untyped]
    import pyx12.params  # type: ignore[import-untyped]
    import pyx12.x12context  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("x12", "X12 validation (claimdit check --validate)", exc) from exc

__all__ = ["PYX12_VERSIONS", "VALIDATION", "validate_x12"]

VALIDATION = "x12_validation"
"""The :attr:`FieldIssue.type <claimedit.results.FieldIssue.type>` of a pyx12 finding."""

# Segments whose values identify a patient: their values are not quoted in findings.
_PRIVATE_SEGMENTS = frozenset({"NM1", "N2", "N3", "N4", "DMG", "REF", "PER", "PAT"})

_WHOLE_SEGMENT = re.compile(r"Segment ([A-Z0-9]{2,3})\W.*? not found", re.DOTALL)

PYX12_VERSIONS = {"005010X222": "005010X222A1", "005010X223": "005010X223A2"}
"""The map pyx12 validates each 5010 837 against, by version without its errata suffix."""


def validate_x12(
    source: Path | str | IO[str] | IO[bytes] | Iterable[str] | Iterable[bytes],
) -> dict[int, list[FieldIssue]]:
    """pyx12's findings on an 837 file: segment number (ISA = 1, as the reader numbers them)
    -> the issues pyx12 found there, each named by loop, element and segment.

    The file is first read by claimedit's segment reader and written out again, one segment a
    line with the versions pyx12 knows (see the module docs), into a temporary file: pyx12 then
    validates a file it can read, and its line numbers are the reader's segment numbers.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            return validate_x12(handle)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as copy:
        _normalised(source, copy)
        copy.seek(0)
        log = _ErrorLog()
        try:
            reader = pyx12.x12context.X12ContextReader(pyx12.params.params(), log, copy)
            for _node in reader.iter_segments():
                pass
        except Exception as exc:  # pyx12 raises many kinds on what it cannot place
            line = log.line or 1
            log.add(line, "", "", f"pyx12 cannot validate the file from here on: "
                                  f"{' '.join(str(exc).split())[:200]}")
    return log.findings


def _normalised(source: Any, out: IO[str]) -> None:
    """Write the segments of ``source`` to ``out``, one per line, in the same order and number,
    with GS08/ST03 rewritten to the version pyx12 has a map for."""
    segments = _Segments(_text_chunks(source))
    written = 0
    terminator = "~"
    for item in (item for batch in segments for item in batch):
        if isinstance(item, _Fault):
            continue  # the reader reports these; pyx12 would only stop at them
        number, elements = item
        while written < number - 1:  # keep the numbering: a placeholder for a skipped number
            out.write(f"NTE{segments.element}ADD{segments.element}-{terminator}\n")
            written += 1
        seg_id = elements[0]
        if seg_id == "ISA":
            terminator = "~" if "~" not in segments.element + segments.component else "\x1c"
        elif seg_id in ("GS", "ST"):
            position = 8 if seg_id == "GS" else 3
            if len(elements) > position:
                version = elements[position]
                elements = list(elements)
                elements[position] = PYX12_VERSIONS.get(version[:10], version)
        out.write(segments.element.join(elements) + terminator + "\n")
        written = number
    if isinstance(out, io.TextIOBase):
        out.flush()


class _ErrorLog(pyx12.error_handler.errh_null):  # type: ignore[misc]
    """Collects pyx12's findings with the segment (line) each is about."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self._loop = ""
        self._segment = ""
        self.findings: dict[int, list[FieldIssue]] = {}

    def add(self, line: int, loop: str, element: str, message: str,
            value: str | None = None) -> None:
        if value and self._segment in _PRIVATE_SEGMENTS:
            # pyx12 quotes the value it refuses: not a patient's name, address or id.
            message = message.replace(value, "(value)")
        # "Segment NM1*IL*1*NAME... not found": the segment id says enough.
        message = _WHOLE_SEGMENT.sub(r"Segment \1 not found", message)
        where = f"{loop} " if loop else ""
        place = f"{where}{element} (segment {line})" if element else f"{where}(segment {line})"
        self.findings.setdefault(line, []).append(
            FieldIssue(place.replace("  ", " "), f"pyx12: {' '.join(message.split())}",
                       VALIDATION))

    def add_seg(self, map_node: Any, seg: Any, seg_count: int, cur_line: int,
                ls_id: str | None) -> None:
        self.line = cur_line
        path = map_node.get_path().split("/") if map_node is not None else []
        self._loop = path[-2] if len(path) > 1 else ""
        self._segment = seg.get_seg_id() if seg is not None else ""

    def seg_error(self, err_cde: str, err_str: str, err_value: str | None = None,
                  src_line: int | None = None) -> None:
        # Segment errors name the segment; its values (a patient's name) are not repeated.
        line = src_line or self.line
        self.add(line, self._loop if line == self.line else "", "", err_str, err_value)

    def ele_error(self, err_cde: str, err_str: str, bad_value: str | None,
                  refdes: str | None = None) -> None:
        self.add(self.line, self._loop, refdes or "", err_str, bad_value)

    def handle_errors(self, err_list: list[tuple[str, str, str, Any, int | None]]) -> None:
        for kind, _code, message, _value, line in err_list:
            self.add(line or self.line, kind.upper() if kind in ("isa", "gs", "st") else "", "",
                     message)

    def isa_error(self, err_cde: str, err_str: str) -> None:
        self.add(self.line, "ISA", "", err_str)

    def gs_error(self, err_cde: str, err_str: str) -> None:
        self.add(self.line, "GS", "", err_str)

    def st_error(self, err_cde: str, err_str: str) -> None:
        self.add(self.line, "ST", "", err_str)
