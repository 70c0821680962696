"""``ptp_table``: NCCI procedure-to-procedure (PTP) edits as a table of pairs, as CMS has them.

Each row pairs a column-1 and a column-2 code with the NCCI modifier indicator: 0, the column-2
line is not payable when the column-1 code is billed on another line the same date of service,
whatever its modifiers; 1, the same unless the column-2 line carries one of the edit's
``bypass_modifiers`` (the NCCI-associated modifiers: 59, XE, XP, XS, XU, anatomic ...); 9, the
edit is not in effect (kept for the record, never fires). One edit holds one table (e.g. the
practitioner table, scoped ``claim_types: [professional]``, or the outpatient-hospital table,
``[institutional]``) and answers with one reason per column-2 code, however many column-1 codes
are billed with it.

The rows are data of the same shape as CMS's files, so a table importer (issue 9) can write
them; ``procedure_to_procedure`` remains the kind for a payer's own pair rules written by hand.

FAIL: G6002 + G6001 (practitioner, indicator 0), even with 59 on G6001.
PASS: 77014 + G6001-XS (practitioner, indicator 1, bypassed).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from claimedit.edits._check import Check, CodeTable, Fact, Facts, Kind, reason_for
from claimedit.edits._schema import EditBase, Model, code_value, modifier_values

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "PtpPair", "PtpTableEdit", "fires"]


class PtpPair(Model):
    """One row of a PTP table."""

    column1: str
    column2: str
    modifier_indicator: Literal[0, 1, 9]
    rationale: str | None = Field(default=None, description="CMS's PTP edit rationale.")

    @field_validator("column1", "column2", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        return code_value(value)

    @field_validator("modifier_indicator", mode="before")
    @classmethod
    def _indicator(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.isdigit() else value


class PtpTableEdit(EditBase):
    """A table of NCCI procedure-to-procedure pairs: a ``column2`` line is not payable when
    its row's ``column1`` code is billed on another line of the claim the same date of service,
    unless the row's indicator is 1 and the line carries one of ``bypass_modifiers`` (or the
    indicator is 9).

    FAIL: G6002 + G6001 (practitioner, indicator 0), even with 59 on G6001.
    PASS: 77014 + G6001-XS (practitioner, indicator 1, bypassed).
    """

    kind: Literal["ptp_table"]
    bypass_modifiers: tuple[str, ...] = Field(
        description="The NCCI-associated modifiers that bypass an indicator-1 pair."
    )
    pairs: tuple[PtpPair, ...] = Field(min_length=1)

    @field_validator("bypass_modifiers", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        return modifier_values(value)

    @model_validator(mode="after")
    def _one_row_a_pair(self) -> PtpTableEdit:
        seen: set[tuple[str, str]] = set()
        for pair in self.pairs:
            key = (pair.column1, pair.column2)
            if key in seen:
                raise ValueError(f"the pair {pair.column1} / {pair.column2} is listed twice")
            seen.add(key)
        return self


READS = frozenset({Fact.MODIFIERS, Fact.DAY_CODES})


def fires(
    facts: Facts, *, strict: frozenset[str], bypassable: frozenset[str], bypass: frozenset[str]
) -> bool:
    """An indicator-0 column-1 code is billed on another line that day, or an indicator-1
    one is and the line carries no bypass modifier."""
    if not strict.isdisjoint(facts.day_codes):
        return True
    return not bypassable.isdisjoint(facts.day_codes) and bypass.isdisjoint(facts.modifiers)


def compile_ptp_table(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, PtpTableEdit)
    bypass = frozenset(edit.bypass_modifiers)
    by_column2: dict[str, tuple[set[str], set[str]]] = {}
    for pair in edit.pairs:
        if pair.modifier_indicator == 9:
            continue
        strict, bypassable = by_column2.setdefault(pair.column2, (set(), set()))
        (strict if pair.modifier_indicator == 0 else bypassable).add(pair.column1)
    for code in sorted(by_column2):
        strict, bypassable = by_column2[code]
        test = partial(fires, strict=frozenset(strict), bypassable=frozenset(bypassable),
                       bypass=bypass)
        yield code, Check(edit.id, reason_for(item, code), test, READS,
                          modifiers=bypass if bypassable else frozenset(),
                          day_codes=frozenset(strict | bypassable))


KIND = Kind("ptp_table", PtpTableEdit, compile_ptp_table, READS, (),
            code_rows=(("pairs", ("column1", "column2")),))
