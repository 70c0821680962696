"""``mue_table_file``: the NCCI medically unlikely edits of a CMS table, read from a table file of
the pack (``claimedit ncci import`` writes it): the most units of a code a provider reports for
one patient on one date of service.

By the code's MUE adjudication indicator (MAI), as CMS adjudicates (NCCI MUE pages; Medicare
Claims Processing Manual, chapter 23; Medicare contractors' MUE billing guidance):

- **1, line edit**: a line whose units exceed the limit is denied (further units belong on
  separate lines with 76/77/59-type modifiers, each checked on its own);
- **2, date of service edit, policy** and **3, date of service edit, clinical**: the units of the
  code on the claim's lines of that date are summed; when the sum exceeds the limit, every line
  of the code that date is denied (CMS denies all the units of the code on the date, not the
  excess). MAI 3 may be overturned on appeal with documentation; that is for the payer's
  review, not the edit.

FAIL: G6001 x 3 units (MUE 2, MAI 3); G6001 x 2 + G6001 x 1 the same day.
PASS: G6001 x 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from claimedit.edits._check import Fact, Kind, TableCheck, no_codes
from claimedit.edits._schema import EditBase
from claimedit.edits._table_file import check_table_path, resolve_table, template_fields
from claimedit.limits import remember
from claimedit.ncci.table import MueTable
from claimedit.results import Reason

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "MueTableFileCheck", "MueTableFileEdit"]

_REASON_CACHE = 1 << 14


class MueTableFileEdit(EditBase):
    """NCCI MUE limits from a table file of the pack. ``message`` may use ``{code}``,
    ``{units}`` (the units counted: the line's for MAI 1, the day's for 2 and 3), ``{limit}``,
    ``{indicator}``, ``{indicator_text}`` and ``{rationale}``.

    FAIL: G6001 x 3 units (MUE 2, MAI 3); G6001 x 2 + G6001 x 1 the same day.
    PASS: G6001 x 2.
    """

    kind: Literal["mue_table_file"]
    table: str = Field(description="The MUE table file, relative to the pack, e.g. "
                                   "tables/mue.bin (written by claimedit ncci import).")
    indicator_text: dict[str, str] = Field(
        default_factory=dict, description="What each MUE adjudication indicator means.")
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        return check_table_path(value)

    @field_validator("indicator_text")
    @classmethod
    def _indicators(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - {"1", "2", "3"})
        if unknown:
            raise ValueError(f"unknown indicators {unknown}: expected 1, 2, 3")
        return value

    @model_validator(mode="after")
    def _open(self, info: ValidationInfo) -> MueTableFileEdit:
        template_fields(self.message, code="G6001", units=3, limit=2, indicator=3,
                        indicator_text="", rationale="")
        try:
            self._path = resolve_table(self.table, info, MueTable.open)
        except ValueError as exc:
            raise ValueError(f"table: {exc}") from None
        return self

    @property
    def table_path(self) -> Path | None:
        """The table file, when loaded from a pack directory."""
        return self._path


READS = frozenset({Fact.UNITS, Fact.DAY_UNITS})


class MueTableFileCheck:
    """The check of one ``mue_table_file`` edit: its limits, and its reasons (one per code and
    units counted, built on first use and kept, bounded)."""

    def __init__(self, item: SourcedEdit) -> None:
        edit = item.edit
        assert isinstance(edit, MueTableFileEdit) and edit.table_path is not None
        self.item = item
        self.table = MueTable.open(edit.table_path)
        # code -> (limit, per line?): the hot path reads plain tuples.
        self._limits = {limit.code: (limit.units, limit.adjudication_indicator == 1)
                        for limit in self.table}
        self._reasons: dict[tuple[str, int], Reason] = {}
        self._citation = str(edit.citation)

    def __call__(self, code: str, modifiers: tuple[str, ...], day: int,
                 day_codes: frozenset[str], units: int, day_units: int) -> tuple[Reason, ...]:
        found = self._limits.get(code)
        if found is None:
            return ()
        limit, per_line = found
        counted = units if per_line else day_units
        if counted <= limit:
            return ()
        return (self.reason(code, counted),)

    def reason(self, code: str, counted: int) -> Reason:
        key = (code, counted)
        reason = self._reasons.get(key)
        if reason is None:
            edit = self.item.edit
            assert isinstance(edit, MueTableFileEdit)
            limit = self.table.limit(code)
            assert limit is not None
            indicator = limit.adjudication_indicator
            message = edit.message.format(
                code=code, units=counted, limit=limit.units, indicator=indicator,
                indicator_text=edit.indicator_text.get(str(indicator), f"MAI {indicator}"),
                rationale=limit.rationale)
            reason = Reason(edit.id, edit.decision, message, edit.group_code, edit.carc,
                            edit.rarcs, self._citation, self.item.source)
            remember(self._reasons, key, reason, _REASON_CACHE)
        return reason


def compile_table(item: SourcedEdit) -> TableCheck:
    return MueTableFileCheck(item)


KIND = Kind("mue_table_file", MueTableFileEdit, no_codes, READS, (), table=compile_table)
