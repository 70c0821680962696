"""Result types: the decision on each line and every reason behind it.

Results are immutable named tuples: cheap to build on the hot path (a batch makes millions),
safe to share between threads, picklable, and plain to serialise (:meth:`ClaimResult.to_dict`).

Example:
    >>> from claimedit import Decision
    >>> Decision.DENY.outranks(Decision.BUNDLE)
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from functools import partial
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any, NamedTuple, TypeVar

from claimedit.limits import printable

__all__ = [
    "SEVERITY",
    "Adjustment",
    "ClaimError",
    "ClaimResult",
    "Decision",
    "FieldIssue",
    "HistoryStatus",
    "LineResult",
    "PackProvenance",
    "Provenance",
    "Reason",
    "new_claim_result",
    "new_line_result",
]


class Decision(StrEnum):
    """What happens to a line: ``allow`` (pay as billed), ``bundle`` (paid within another
    service billed the same day) or ``deny``. Severity: deny > bundle > allow."""

    ALLOW = "allow"
    BUNDLE = "bundle"
    DENY = "deny"

    @property
    def severity(self) -> int:
        """Rank for comparing decisions: allow 0, bundle 1, deny 2."""
        return SEVERITY[self]

    def outranks(self, other: Decision) -> bool:
        """True when this decision is more severe than ``other``."""
        return SEVERITY[self] > SEVERITY[other]


SEVERITY = {Decision.ALLOW: 0, Decision.BUNDLE: 1, Decision.DENY: 2}
"""Decision -> rank; the line's decision is its most severe reason's."""


class Reason(NamedTuple):
    """Why an edit fired on a line, with everything a remittance (835 CAS/LQ) needs."""

    rule_id: str
    """Stable id of the edit in the rule pack, e.g. ``IGRT-TC-BUNDLED-INTO-IMRT``."""
    decision: Decision
    """The decision this edit alone calls for."""
    message: str
    """A sentence for people: what is wrong with the line."""
    group_code: str
    """Claim adjustment group code: CO, PR, OA or PI."""
    carc: str
    """Claim Adjustment Reason Code value, e.g. ``97``."""
    rarcs: tuple[str, ...]
    """Remittance Advice Remark Code values, e.g. ``("M15",)``."""
    citation: str
    """The policy sentence (or CMS source) the edit encodes."""
    source: str
    """The rule-pack revision or state overlay the edit came from."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: the decision as its text, the RARCs as a list."""
        data = self._asdict()
        data["decision"] = self.decision.value
        data["rarcs"] = list(self.rarcs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        """The inverse of :meth:`to_dict`."""
        return cls(
            rule_id=data["rule_id"],
            decision=Decision(data["decision"]),
            message=data["message"],
            group_code=data["group_code"],
            carc=data["carc"],
            rarcs=tuple(data["rarcs"]),
            citation=data["citation"],
            source=data["source"],
        )


class LineResult(NamedTuple):
    """The decision on one claim line and the reasons (empty when allowed untouched)."""

    line_id: str | None
    """The input line id, or its 1-based position in the claim when the input had none."""
    code: str
    """The normalised procedure code of the line."""
    modifiers: tuple[str, ...]
    """The normalised modifiers of the line."""
    date_of_service: dt.date
    decision: Decision
    """The most severe decision among the reasons; ``allow`` when none fired."""
    reasons: tuple[Reason, ...]
    """Every edit that fired, sorted by rule id (the pack's order of edits does not matter)."""
    charge: Decimal | None = None
    """The line's billed charge, echoed from :attr:`ClaimLine.charge` (``None`` when the input
    had none): what an 835 writer reports as submitted."""
    reviewed: bool = True
    """``False`` when no loaded rule pack knows the line's code (none of their code tables
    lists it): the line is allowed because it is not this policy's business, not because it
    passed the policy's edits. ``True`` otherwise, whether or not an edit fired."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the edits that fired, in the order of :attr:`reasons`.

        Example:
            >>> import claimedit
            >>> claimedit.load_engine().evaluate_line({"code": "G6017", "modifiers": ["26"],
            ...     "date_of_service": "2025-05-14"}, payer="commercial").rule_ids
            ('IGRT-COMPONENT-MODIFIER',)
        """
        return tuple(reason.rule_id for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: decision and date as text, lists for tuples, the charge as its exact
        decimal text in fixed notation (``"125.00"``, never ``"1E+2"``; a JSON number would pass
        through binary floating point)."""
        return {
            "line_id": self.line_id,
            "code": self.code,
            "modifiers": list(self.modifiers),
            "date_of_service": self.date_of_service.isoformat(),
            "decision": self.decision.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "charge": None if self.charge is None else format(self.charge, "f"),
            "reviewed": self.reviewed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineResult:
        """The inverse of :meth:`to_dict`."""
        return cls(
            line_id=data["line_id"],
            code=data["code"],
            modifiers=tuple(data["modifiers"]),
            date_of_service=dt.date.fromisoformat(data["date_of_service"]),
            decision=Decision(data["decision"]),
            reasons=tuple(Reason.from_dict(item) for item in data["reasons"]),
            # Results stored before these fields existed have neither.
            charge=None if data.get("charge") is None else Decimal(data["charge"]),
            reviewed=data.get("reviewed", True),
        )


class PackProvenance(NamedTuple):
    """One rule pack that took part in a decision: its id, version and content hash."""

    pack: str
    version: str
    content_hash: str

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class Provenance(NamedTuple):
    """What decided: the rule packs (id, version, content hash of their rule files) and the
    library version that evaluated them. With the same pack files and library version, a
    decision can be reproduced later.

    With one pack, ``pack``, ``version`` and ``content_hash`` are that pack's, exactly as before
    packs could be composed (the JSON too). With several, ``pack`` and ``version`` join the
    packs' in load order with ``+`` (``igrt+ncci-radonc``, ``2026.2.0+2024.3.0``),
    ``content_hash`` is a sha256 over the packs' ids and hashes, and ``composed_of`` lists each
    pack. :attr:`packs` lists every pack in both cases.

    Example:
        >>> import claimedit
        >>> p = claimedit.load_engine(["igrt", "ncci-radonc"]).provenance
        >>> p.pack, [item.pack for item in p.packs]
        ('igrt+ncci-radonc', ['igrt', 'ncci-radonc'])
        >>> [item.pack for item in claimedit.load_engine().provenance.packs]
        ['igrt']
    """

    pack: str
    version: str
    content_hash: str
    """``sha256:`` over every rule file of the pack (names and bytes), overlays included; for
    several packs, over their ids and hashes."""
    library: str
    """The claimedit version that compiled the packs and evaluated the claim, e.g. ``0.1.0``."""
    composed_of: tuple[PackProvenance, ...] = ()
    """The packs of a composition, in load order; empty for one pack (the fields above name
    it). JSON: ``packs``, written only for a composition."""

    @property
    def packs(self) -> tuple[PackProvenance, ...]:
        """Every pack that decided, in load order (one entry for a single pack)."""
        return self.composed_of or (PackProvenance(self.pack, self.version, self.content_hash),)

    @classmethod
    def of(cls, packs: tuple[PackProvenance, ...], library: str) -> Provenance:
        """The provenance of packs evaluated together."""
        if len(packs) == 1:
            return cls(*packs[0], library)
        digest = hashlib.sha256()
        for item in packs:
            digest.update(f"{item.pack}\0{item.content_hash}\n".encode())
        return cls("+".join(item.pack for item in packs),
                   "+".join(item.version for item in packs),
                   f"sha256:{digest.hexdigest()}", library, packs)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"pack": self.pack, "version": self.version,
                                "content_hash": self.content_hash, "library": self.library}
        if self.composed_of:
            data["packs"] = [item.to_dict() for item in self.composed_of]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        """The inverse of :meth:`to_dict`. Results stored before the library version was
        recorded have no ``library`` (read as ``unknown``)."""
        packs = tuple(PackProvenance(**item) for item in data.get("packs") or ())
        return cls(data["pack"], data["version"], data["content_hash"],
                   data.get("library", "unknown"), packs)


class HistoryStatus(StrEnum):
    """What a claim history store did with a claim (``ClaimResult.history``; ``None`` when the
    claim was evaluated without a store). See ``docs/history.md``."""

    RECORDED = "recorded"
    """Judged with the patient's earlier claims from the same provider, then recorded."""
    REPLACED = "replaced"
    """As ``recorded``, replacing the stored claim of the same id (a replacement, frequency 7,
    or the same claim sent again)."""
    VOIDED = "voided"
    """A void (frequency 8): the stored claim of that id was removed; its lines are shown as
    they would be judged today, for information only."""
    NOT_ON_FILE = "not_on_file"
    """A void of a claim id the store does not hold: nothing was removed."""
    JUDGED_ALONE = "judged_alone"
    """No ``patient_id`` or no ``provider_id``: judged on its own lines only, and not recorded."""


class Adjustment(NamedTuple):
    """A line of an earlier claim whose decision changes because of this claim (the IGRT TC
    allowed alone yesterday, bundled now that the IMRT of the same day has arrived): what the
    claims system recoups or repays."""

    claim_id: str
    """The earlier claim's id."""
    line_id: str
    """The earlier line's id (its 1-based position when it had none)."""
    code: str
    modifiers: tuple[str, ...]
    date_of_service: dt.date
    decision: Decision
    """The line's new decision."""
    reasons: tuple[Reason, ...]
    """The line's new reasons (empty when it is now allowed)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, shaped as a line result's."""
        return {
            "claim_id": self.claim_id,
            "line_id": self.line_id,
            "code": self.code,
            "modifiers": list(self.modifiers),
            "date_of_service": self.date_of_service.isoformat(),
            "decision": self.decision.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Adjustment:
        """The inverse of :meth:`to_dict`."""
        return cls(
            claim_id=data["claim_id"],
            line_id=data["line_id"],
            code=data["code"],
            modifiers=tuple(data["modifiers"]),
            date_of_service=dt.date.fromisoformat(data["date_of_service"]),
            decision=Decision(data["decision"]),
            reasons=tuple(Reason.from_dict(item) for item in data["reasons"]),
        )


class ClaimResult(NamedTuple):
    """The results of one claim: one :class:`LineResult` per input line, in input order.

    Evaluated with a claim history store, :attr:`history` says what the store did and
    :attr:`adjustments` lists earlier lines whose decision this claim changes; without a store
    they are ``None`` and empty, and the JSON form leaves them out.
    """

    claim_id: str
    payer: str
    state: str | None
    lines: tuple[LineResult, ...]
    provenance: Provenance
    notes: tuple[FieldIssue, ...] = ()
    """What the reader left out of the claim and says so (a service line without a CPT/HCPCS
    code, not evaluated): place in the source format and why. In JSON only when there are some."""
    adjustments: tuple[Adjustment, ...] = ()
    """Earlier lines (same patient, provider and date of service) whose decision changes."""
    history: HistoryStatus | None = None
    """What the history store did with the claim; ``None`` without a store."""

    @property
    def decision(self) -> Decision:
        """The most severe line decision (a summary; each line is adjudicated on its own)."""
        worst = Decision.ALLOW
        for line in self.lines:
            if line.decision.outranks(worst):
                worst = line.decision
        return worst

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data of the claim, its lines and provenance (see :meth:`to_json`), and,
        when evaluated with a history store, ``history`` and ``adjustments``."""
        data: dict[str, Any] = {
            "claim_id": self.claim_id,
            "payer": self.payer,
            "state": self.state,
            "lines": [line.to_dict() for line in self.lines],
            "provenance": self.provenance.to_dict(),
        }
        if self.notes:
            data["notes"] = [note._asdict() for note in self.notes]
        if self.history is not None:
            data["history"] = self.history.value
            data["adjustments"] = [item.to_dict() for item in self.adjustments]
        return data

    def to_json(self) -> str:
        """Compact JSON of :meth:`to_dict` (the same text as ``json.dumps(result.to_dict(),
        separators=(",", ":"))``), built several times faster for batch output: the JSON of
        each reason and provenance is made once and reused, as the engine shares those objects.

        Example:
            >>> import json, claimedit
            >>> result = claimedit.load_engine().evaluate({"claim_id": "C1", "payer": "medicare",
            ...     "lines": [{"code": "77387", "date_of_service": "2025-03-03"}]})
            >>> json.loads(result.to_json()) == result.to_dict()
            True
        """
        lines = ",".join([_line_json(line) for line in self.lines])
        state = "null" if self.state is None else _string(self.state)
        notes = "" if not self.notes else ',"notes":' + json.dumps(
            [note._asdict() for note in self.notes], separators=(",", ":"))
        history = ""
        if self.history is not None:
            adjustments = json.dumps([item.to_dict() for item in self.adjustments],
                                     separators=(",", ":")) if self.adjustments else "[]"
            history = f',"history":"{self.history.value}","adjustments":{adjustments}'
        return (f'{{"claim_id":{_string(self.claim_id)},"payer":{_string(self.payer)},'
                f'"state":{state},"lines":[{lines}],'
                f'"provenance":{_OBJECT_JSON[self.provenance]}{notes}{history}}}')

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClaimResult:
        """The inverse of :meth:`to_dict` (and of :meth:`to_json` after ``json.loads``)."""
        return cls(
            claim_id=data["claim_id"],
            payer=data["payer"],
            state=data["state"],
            lines=tuple(LineResult.from_dict(item) for item in data["lines"]),
            provenance=Provenance.from_dict(data["provenance"]),
            notes=tuple(FieldIssue(**note) for note in data.get("notes", ())),
            adjustments=tuple(Adjustment.from_dict(item) for item in data.get("adjustments", ())),
            history=None if data.get("history") is None else HistoryStatus(data["history"]),
        )


_string = _json_string  # one JSON string literal, escaped by the json module's C encoder

# Batch output repeats a few pieces endlessly: the same reasons and provenance (the engine shares
# those objects), the same code-and-modifiers pairs, the same dates. Their JSON is made once and
# looked up after that. Each memo is capped, so odd input cannot grow it without bound; past the
# cap the JSON is simply built each time.
_MEMO_LIMIT = 65536
_K = TypeVar("_K")


class _Memo(dict[_K, str]):
    """A mapping that builds a missing value with ``build`` and keeps it while under the cap.
    A hit is a plain dictionary subscript; past the cap the value is built each time."""

    def __init__(self, build: Callable[[_K], str]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, key: _K) -> str:
        text = self._build(key)
        if len(self) < _MEMO_LIMIT:
            self[key] = text
        return text


def _object_json(item: Reason | Provenance) -> str:
    return json.dumps(item.to_dict(), separators=(",", ":"))


def _code_json(key: tuple[str, tuple[str, ...]]) -> str:
    code, modifiers = key
    listed = ",".join([_string(modifier) for modifier in modifiers])
    return f'"code":{_string(code)},"modifiers":[{listed}]'


def _date_json(day: dt.date) -> str:
    return f'"date_of_service":"{day.isoformat()}"'


def _outcome_json(key: tuple[Decision, tuple[Reason, ...]]) -> str:
    decision, reasons = key
    listed = ",".join([_OBJECT_JSON[reason] for reason in reasons])
    return f'"decision":"{decision.value}","reasons":[{listed}]'


_OBJECT_JSON: _Memo[Reason | Provenance] = _Memo(_object_json)
_CODE_JSON: _Memo[tuple[str, tuple[str, ...]]] = _Memo(_code_json)
_DATE_JSON: _Memo[dt.date] = _Memo(_date_json)
_OUTCOME_JSON: _Memo[tuple[Decision, tuple[Reason, ...]]] = _Memo(_outcome_json)


def _line_json(line: LineResult) -> str:
    line_id, code, modifiers, day, decision, reasons, charge, reviewed = line
    return (f'{{"line_id":{"null" if line_id is None else _string(line_id)},'
            f'{_CODE_JSON[code, modifiers]},{_DATE_JSON[day]},'
            f'{_OUTCOME_JSON[decision, reasons]},'
            f'"charge":{"null" if charge is None else _string(format(charge, "f"))},'
            f'"reviewed":{"true" if reviewed else "false"}}}')


# The one factory of the result types. NamedTuple's generated __new__ takes keywords and costs a
# Python frame; tuple.__new__ with every field in order builds the same object several times
# faster, which matters on the engine's per-line path. Callers pass every field, in order.
new_line_result: Callable[[tuple[Any, ...]], LineResult] = partial(tuple.__new__, LineResult)
"""Build a :class:`LineResult` from a tuple of all its fields in order (no defaults, no checks):
``new_line_result((line_id, code, modifiers, date_of_service, decision, reasons, charge,
reviewed))``."""
new_claim_result: Callable[[tuple[Any, ...]], ClaimResult] = partial(tuple.__new__, ClaimResult)
"""Build a :class:`ClaimResult` from a tuple of all its fields in order:
``new_claim_result((claim_id, payer, state, lines, provenance, notes, adjustments, history))``
(``notes`` ``()`` when the reader left nothing out; ``adjustments`` ``()`` and ``history``
``None`` without a history store)."""


class FieldIssue(NamedTuple):
    """One problem with an input record: where (a dotted field path), why, and a stable slug.

    ``type`` is machine-readable and stable across releases (like pydantic's error types):
    pydantic's own slugs for validation (``missing``, ``enum``, ``string_pattern_mismatch``,
    ``json_invalid`` ...) and claimedit's for the rest (``record_too_large``, ``invalid_utf8``,
    ``csv_rows_not_contiguous``, ``internal_error`` ...); ``docs/reliability.md`` lists them.
    The reason is for people and may change.

    Example:
        >>> FieldIssue("payer", "missing: this field is required", "missing").type
        'missing'
    """

    field: str
    """E.g. ``lines.1.modifiers.0`` (0-based positions), or ``""`` for the record itself."""
    reason: str
    type: str = "invalid"
    """Stable slug of the kind of problem; ``invalid`` when nothing more precise is known."""


class ClaimError(NamedTuple):
    """An input record that could not be evaluated, and every problem found in it.

    Printed (``str``) it is one line whatever the input holds: control characters in the claim
    id, the source name or a message are escaped, so a record cannot forge a line of a report.
    """

    source: str
    """The file name (``-`` for stdin, ``<python>`` for objects passed in)."""
    record: int
    """1-based record number in the source (a JSON Lines line, a JSON list item, a CSV claim);
    0 for a fault of the file itself (unreadable, a broken X12 envelope)."""
    claim_id: str | None
    """The claim id when it could be read."""
    issues: tuple[FieldIssue, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record": self.record,
            "claim_id": self.claim_id,
            "issues": [issue._asdict() for issue in self.issues],
        }

    def __str__(self) -> str:
        """``bad.jsonl: record 3 (claim C3): payer: ...``; a fault of the whole file names no
        record: ``claims/: cannot read: Is a directory``."""
        where = printable(self.source)
        if self.record:
            where += f": record {self.record}"
        if self.claim_id is not None:
            where += f" (claim {printable(self.claim_id)})"
        problems = "; ".join(
            f"{printable(issue.field)}: {printable(issue.reason)}" if issue.field
            else printable(issue.reason)
            for issue in self.issues
        )
        return f"{where}: {problems}"
