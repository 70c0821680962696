"""The 835 adjustments take the line's charge as money, checked where it is passed.

``remittance(line, charge=100)`` used to fail later, when a segment was written, with an
AttributeError from inside the writer; now an int or a decimal string is taken, and what cannot
be a charge is refused at the call with a message naming ``charge``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import claimedit

x12 = pytest.importorskip("claimedit.adapters.x12", reason="needs the x12 extra (pyx12)")


@pytest.fixture(scope="module")
def bundled() -> claimedit.LineResult:
    result = claimedit.load_engine().evaluate({"claim_id": "C1", "payer": "commercial", "lines": [
        {"line_id": "1", "code": "77385", "date_of_service": "2025-03-04"},
        {"line_id": "2", "code": "G6001", "modifiers": ["TC"], "date_of_service": "2025-03-04"}]})
    return result.lines[1]


@pytest.mark.parametrize("charge", [100, "100", "100.00", " 100.00 ", Decimal("100")])
def test_int_str_and_decimal_charges(bundled: claimedit.LineResult, charge: Any) -> None:
    remit = x12.remittance(bundled, charge=charge)
    assert remit.adjustments[0].amount == Decimal(100)
    assert remit.segments() == ["CAS*CO*97*100~", "LQ*HE*M15~"]


@pytest.mark.parametrize(("charge", "error", "words"), [
    (100.5, TypeError, "binary float"),
    (True, TypeError, "not a bool"),
    ([100], TypeError, "not a list"),
    ("ten", ValueError, "not a decimal amount"),
    ("-1", ValueError, "0 or more"),
    (Decimal("NaN"), ValueError, "finite"),
    ("Infinity", ValueError, "finite"),
    ("1.005", ValueError, "2 decimal places"),
])
def test_what_cannot_be_a_charge_fails_at_the_call(
    bundled: claimedit.LineResult, charge: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=f"charge: .*{words}"):
        x12.remittance(bundled, charge=charge)


@settings(max_examples=100)
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False,
                   allow_infinity=False))
def test_the_line_balances(charge: Decimal) -> None:
    """A bundled line pays nothing: its adjustments add up to the charge, however given."""
    line = claimedit.load_engine().evaluate_line(
        {"code": "77387", "date_of_service": "2025-06-02"}, payer="medicare")
    for given_as in (charge, str(charge)):
        remit = x12.remittance(line, charge=given_as)
        assert sum(a.amount or 0 for a in remit.adjustments) == charge
