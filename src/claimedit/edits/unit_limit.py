"""``unit_limit``: a limit on units of service, as CMS's Medically Unlikely Edits (MUEs) express it.

A limit (``max_units``) per code, per payer type and claim type (the edit's scope), with the MUE
adjudication indicator (MAI) saying what is counted:

- **1, line edit**: the units on the line. A line whose units exceed the limit is denied (the
  whole line: CMS denies the claim line, it does not pay up to the limit). The same code on
  another line with a modifier such as 76, 77, 59 or an anatomic modifier is judged on its own.
- **2, date-of-service edit, policy** and **3, date-of-service edit, clinical**: the units of
  the code summed over the claim's lines with the same date of service (whatever their
  modifiers). When the sum exceeds the limit, every line of the code that date is denied. MAI 2
  is absolute (no modifier or appeal changes it); MAI 3 may be overridden on review: both
  are denied here, the indicator is carried for the reviewer.

The code is counted whatever its modifiers, 26 and TC included (77387-26 + 77387-TC is 2 units).

Sources: CMS FAQ 11344 "How are claims adjudicated with Medically Unlikely Edits (MUEs)?"
(questions.cms.gov: a line edit denies all units of the line; a date-of-service edit sums all
units of the HCPCS/CPT code that date and denies all units of the code on the claim); CMS,
Medicare NCCI Policy Manual, Chapter I, and the CMS "Medically Unlikely Edits" page;
contractors' summaries (Palmetto GBA "Medically Unlikely Edits (MUE) Program"; First Coast
"Medically Unlikely Edits: avoid denials"; NGS "Medically Unlikely Edits Billing and
Processing"). Units on other claims of the same day (CMS sums those too for MAI 2 and 3) need
the patient's history, which the engine does not have yet.

FAIL: G6001-26 x 3 units (practitioner MUE 2, MAI 3).
PASS: G6001-26 x 2 units.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from claimedit.edits._check import Check, CodeTable, Fact, Facts, Kind, reason_for
from claimedit.edits._schema import CodeSet, EditBase

if TYPE_CHECKING:
    from claimedit.pack.loader import SourcedEdit

__all__ = ["KIND", "UnitLimitEdit", "fires"]


class UnitLimitEdit(EditBase):
    """Denies units of service beyond ``max_units`` for a code of ``codes``: on the line
    (``adjudication_indicator`` 1) or summed over the claim's lines of the code with the same
    date of service (2 or 3, every such line). ``{limit}`` in the message is replaced by the
    limit.

    FAIL: G6001-26 x 3 units (practitioner MUE 2, MAI 3).
    PASS: G6001-26 x 2 units.
    """

    kind: Literal["unit_limit"]
    codes: CodeSet
    max_units: int = Field(ge=0, le=9999, description="The most units payable (the MUE value).")
    adjudication_indicator: Literal[1, 2, 3] = Field(
        description="MUE adjudication indicator: 1 per line; 2 (policy) and 3 (clinical) per "
                    "date of service, units summed over the claim's lines of the code."
    )

    @field_validator("adjudication_indicator", mode="before")
    @classmethod
    def _indicator(cls, value: Any) -> Any:
        # CMS files write "3 Date of Service Edit: Clinical": the digit is the indicator.
        if isinstance(value, str) and value[:1].isdigit():
            return int(value[:1])
        return value


READS = frozenset({Fact.UNITS, Fact.DAY_UNITS})
_LINE = frozenset({Fact.UNITS})
_DAY = frozenset({Fact.DAY_UNITS})


def fires(facts: Facts, *, max_units: int, per_day: bool) -> bool:
    """The line's units (indicator 1), or the code's units that day (2, 3), exceed the limit."""
    return (facts.day_units if per_day else facts.units) > max_units


def compile_unit_limit(item: SourcedEdit, table: CodeTable) -> Iterator[tuple[str, Check]]:
    edit = item.edit
    assert isinstance(edit, UnitLimitEdit)
    per_day = edit.adjudication_indicator != 1
    test = partial(fires, max_units=edit.max_units, per_day=per_day)
    limit = str(edit.max_units)
    for code in sorted(table.expand(edit.codes)):
        reason = reason_for(item, code)
        reason = reason._replace(message=reason.message.replace("{limit}", limit))
        yield code, Check(edit.id, reason, test, _DAY if per_day else _LINE,
                          units_cap=edit.max_units + 1)


KIND = Kind("unit_limit", UnitLimitEdit, compile_unit_limit, READS, ("codes",))
