"""``ptp_table_file``: the NCCI procedure-to-procedure edits of a CMS table, read from a table file
of the pack (``claimedit ncci import`` writes it), each pair with its own dates.

A line is the column-2 code of a pair whose column-1 code is billed on another line of the claim
with the same date of service, the pair is in force on that date (effective <= date <=
deletion; indicator 9 never is), and, for indicator 1, the line carries none of
``bypass_modifiers``. Every pair that fires gives its own reason, naming the pair, its dates,
its indicator and the CMS rationale.

FAIL: G6002 + G6001 (indicator 0), G6001 not paid, with or without 59.
PASS: 77014 + G6001-XS (indicator 1, bypassed).

Table-backed: the pairs are not compiled into the code index (two million of them, with dates
spread over thirty years, would be copied into every era); the engine asks the table about each
line of the edit's scope (see :data:`claimedit.edits.TableCheck`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from claimedit.edits._check import Fact, Kind, TableCheck, no_codes
from claimedit.edits._schema import EditBase, modifier_values
from claimedit.edits._table_file import check_table_path, resolve_table, template_fields
from claimedit.limits import remember
from claimedit.ncci.table import PtpTable
from claimedit.results import Reason

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "PtpTableFileCheck", "PtpTableFileEdit"]

_REASON_CACHE = 1 << 14
_PARTNER_LIMIT = 1 << 12


class PtpTableFileEdit(EditBase):
    """NCCI PTP pairs from a table file of the pack; each pair carries its dates and modifier
    indicator. ``message`` may use ``{code}``, ``{column1}``, ``{effective}``, ``{deletion}``,
    ``{indicator}``, ``{indicator_meaning}`` and ``{rationale}``.

    FAIL: G6002 + G6001 (indicator 0), G6001 not paid, with or without 59.
    PASS: 77014 + G6001-XS (indicator 1, bypassed).
    """

    kind: Literal["ptp_table_file"]
    table: str = Field(description="The PTP table file, relative to the pack, e.g. "
                                   "tables/ptp.bin (written by claimedit ncci import).")
    bypass_modifiers: tuple[str, ...] = Field(
        min_length=1, description="NCCI-associated modifiers: one on the column-2 line "
                                  "bypasses a pair of indicator 1.")
    indicator_meaning: dict[str, str] = Field(
        default_factory=dict, description="What each modifier indicator means, for messages.")
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("bypass_modifiers", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        return modifier_values(value)

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        return check_table_path(value)

    @field_validator("indicator_meaning")
    @classmethod
    def _indicators(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - {"0", "1"})
        if unknown:
            raise ValueError(f"unknown indicators {unknown}: expected 0, 1")
        return value

    @model_validator(mode="after")
    def _open(self, info: ValidationInfo) -> PtpTableFileEdit:
        template_fields(self.message, code="G6001", column1="G6002", effective="2015-01-01",
                        deletion="none", indicator=0, indicator_meaning="", rationale="")
        try:
            self._path = resolve_table(self.table, info, PtpTable.open)
        except ValueError as exc:
            raise ValueError(f"table: {exc}") from None
        return self

    @property
    def table_path(self) -> Path | None:
        """The table file, when loaded from a pack directory."""
        return self._path


READS = frozenset({Fact.MODIFIERS, Fact.DAY_CODES})


class PtpTableFileCheck:
    """The check of one ``ptp_table_file`` edit: its table, its bypass modifiers, and its reasons
    (one per pair row that fires, built on first use and kept, bounded)."""

    def __init__(self, item: SourcedEdit) -> None:
        edit = item.edit
        assert isinstance(edit, PtpTableFileEdit) and edit.table_path is not None
        self.item = item
        self.table = PtpTable.open(edit.table_path)
        self.bypass = frozenset(edit.bypass_modifiers)
        self._reasons: dict[int, Reason] = {}
        self._citation = str(edit.citation)
        # code -> its column-1 partners: one dict look-up per line on the hot path (bounded).
        self._partners: dict[str, frozenset[str]] = {}

    def __call__(self, code: str, modifiers: tuple[str, ...], day: int,
                 day_codes: frozenset[str], units: int, day_units: int) -> tuple[Reason, ...]:
        if len(day_codes) < 2:
            return ()
        partners = self._partners.get(code)
        if partners is None:
            partners = remember(self._partners, code, self.table.partners(code), _PARTNER_LIMIT)
        if partners.isdisjoint(day_codes):
            return ()  # the common case: nothing billed that day pairs with the code
        rows = self.table.rows
        found: list[Reason] = []
        for column1 in sorted(partners.intersection(day_codes)):
            if column1 == code:
                continue
            for effective, deletion, indicator, row in rows(column1, code):
                if indicator != 9 and effective <= day <= deletion:
                    if indicator == 0 or self.bypass.isdisjoint(modifiers):
                        found.append(self.reason(row))
                    break  # one row of a pair is in force on a date
        return tuple(found)

    def reason(self, row: int) -> Reason:
        """The reason of a table row (cached)."""
        reason = self._reasons.get(row)
        if reason is None:
            edit = self.item.edit
            assert isinstance(edit, PtpTableFileEdit)
            pair = self.table.row(row)
            message = edit.message.format(
                code=pair.column2, column1=pair.column1, effective=pair.effective,
                deletion=pair.deletion or "none", indicator=pair.modifier_indicator,
                indicator_meaning=edit.indicator_meaning.get(str(pair.modifier_indicator), ""),
                rationale=pair.rationale)
            reason = Reason(edit.id, edit.decision, message, edit.group_code, edit.carc,
                            edit.rarcs, self._citation, self.item.source)
            remember(self._reasons, row, reason, _REASON_CACHE)
        return reason


def compile_table(item: SourcedEdit) -> TableCheck:
    return PtpTableFileCheck(item)


KIND = Kind("ptp_table_file", PtpTableFileEdit, no_codes, READS, (), table=compile_table)
