"""claimedit: apply a health plan's reimbursement policy to claim lines.

Each line gets a decision (allow, deny or bundle) and every reason a remittance needs: the edit
that fired, the policy sentence it encodes, the group code, CARC and RARCs.

Example:
    >>> import claimedit
    >>> engine = claimedit.load_engine()
    >>> result = engine.evaluate({"claim_id": "C1", "payer": "medicaid", "lines": [
    ...     {"line_id": "1", "code": "77385", "date_of_service": "2025-03-03"},
    ...     {"line_id": "2", "code": "77387", "modifiers": ["TC"],
    ...      "date_of_service": "2025-03-03"}]})
    >>> result.lines[1].decision
    <Decision.BUNDLE: 'bundle'>
"""

from claimedit._version import __version__
from claimedit.claims import Claim, ClaimLine, ClaimType, Payer, parse_claim
from claimedit.engine import Engine, InvalidClaimError, load_engine
from claimedit.history import HistoryError, HistoryStore, open_history
from claimedit.pack import Problem, RulePack, RulePackError, load_pack
from claimedit.pack.models import Component
from claimedit.results import (
    Adjustment,
    ClaimError,
    ClaimResult,
    Decision,
    FieldIssue,
    HistoryStatus,
    LineResult,
    PackProvenance,
    Provenance,
    Reason,
)

__all__ = [
    "Adjustment",
    "Claim",
    "ClaimError",
    "ClaimLine",
    "ClaimResult",
    "ClaimType",
    "Component",
    "Decision",
    "Engine",
    "FieldIssue",
    "HistoryError",
    "HistoryStatus",
    "HistoryStore",
    "InvalidClaimError",
    "LineResult",
    "PackProvenance",
    "Payer",
    "Problem",
    "Provenance",
    "Reason",
    "RulePack",
    "RulePackError",
    "__version__",
    "load_engine",
    "load_pack",
    "open_history",
    "parse_claim",
]
