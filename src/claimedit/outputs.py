"""Write results: a table for people, JSON or JSON Lines for programs, and the summary.

Writers take results one at a time, so output streams as input is read. Nothing an input
record holds can forge output: JSON escapes every character outside printable ASCII, error
lines on stderr escape control characters (:class:`~claimedit.results.ClaimError` prints as one
line), and the table strips them from its cells.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from claimedit.limits import printable
from claimedit.results import ClaimError, ClaimResult, Decision, HistoryStatus, Reason

__all__ = [
    "WRITERS", "FhirWriter", "JsonLinesWriter", "JsonWriter", "Summary", "TableWriter", "Writer",
]


class Summary:
    """Counts of claims, lines by decision, invalid records, and the warnings of the run
    (empty files, duplicate claim ids: said, not errors)."""

    _KEPT = 100  # warnings listed in the summary; the rest are counted

    def __init__(self) -> None:
        self.claims = 0
        self.invalid = 0
        self._counts = dict.fromkeys(Decision, 0)
        self.warnings: list[str] = []
        self.warning_count = 0

    def warn(self, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < self._KEPT:
            self.warnings.append(message)

    def add(self, item: ClaimResult | ClaimError) -> None:
        if isinstance(item, ClaimError):
            self.invalid += 1
            return
        self.claims += 1
        counts = self._counts
        for line in item.lines:
            counts[line.decision] += 1

    @property
    def decisions(self) -> dict[str, int]:
        """Lines by decision: ``{"allow": n, "bundle": n, "deny": n}``."""
        return {decision.value: count for decision, count in self._counts.items()}

    @property
    def lines(self) -> int:
        return sum(self._counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"claims": self.claims, "lines": self.lines, "decisions": dict(self.decisions),
                "invalid_records": self.invalid, "warnings": self.warning_count,
                "warning_messages": list(self.warnings)}

    def __str__(self) -> str:
        """``2 claims, 5 lines: 3 allow, 1 bundle, 1 deny; 1 invalid record``."""
        counts = ", ".join(f"{count} {name}" for name, count in self.decisions.items())
        warned = f"; {_count(self.warning_count, 'warning')}" if self.warning_count else ""
        return (f"{_count(self.claims, 'claim')}, {_count(self.lines, 'line')}: {counts}; "
                f"{_count(self.invalid, 'invalid record')}{warned}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Writer:
    """Base writer: results to ``out``, errors to ``err`` (or into the document)."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.summary = Summary()

    def write(self, item: ClaimResult | ClaimError) -> None:
        # Counted once written: an item whose writing fails is replaced by its error record.
        if isinstance(item, ClaimError):
            self.error(item)
        else:
            self.result(item)
        self.summary.add(item)

    def warn(self, message: str) -> None:
        """Something suspicious but not invalid: on ``err`` now, and in the summary."""
        self.summary.warn(message)
        print(f"warning: {printable(message)}", file=self.err)

    def result(self, result: ClaimResult) -> None:
        raise NotImplementedError

    def error(self, error: ClaimError) -> None:
        print(f"error: {error}", file=self.err)

    def close(self) -> None:
        print(f"summary: {self.summary}", file=self.err)


class JsonLinesWriter(Writer):
    """One JSON object a line: a claim result, or ``{"error": {...}}`` for an invalid record."""

    def result(self, result: ClaimResult) -> None:
        self.out.write(result.to_json() + "\n")

    def error(self, error: ClaimError) -> None:
        self.out.write(json.dumps({"error": error.to_dict()}, separators=(",", ":")) + "\n")
        super().error(error)


class JsonWriter(Writer):
    """One JSON document: ``{"results": [...], "errors": [...], "summary": {...}}``.

    Results stream out as they come; errors (few) are held until the end.
    """

    def __init__(self, out: TextIO, err: TextIO) -> None:
        super().__init__(out, err)
        self._errors: list[ClaimError] = []
        self._first = True
        self.out.write('{"results": [')

    def result(self, result: ClaimResult) -> None:
        self.out.write(("\n  " if self._first else ",\n  ") + result.to_json())
        self._first = False

    def error(self, error: ClaimError) -> None:
        self._errors.append(error)
        super().error(error)

    def close(self) -> None:
        errors = json.dumps([error.to_dict() for error in self._errors])
        summary = json.dumps(self.summary.to_dict())
        self.out.write(f'\n], "errors": {errors}, "summary": {summary}}}\n')


class TableWriter(Writer):
    """A fixed-width table, one row per line, then the summary.

    The widths are fixed, not measured, so that rows stream out as claims are read: the claim
    column holds 38 characters (the longest claim id X12 allows, CLM01), the modifier column
    four modifiers. A longer value (possible in JSON or CSV input) pushes the rest of its row
    to the right; it is never cut.
    """

    _ROW = "{:<38} {:<6} {:<6} {:<11} {:<10} {:<10} {:<8} {}"

    def __init__(self, out: TextIO, err: TextIO) -> None:
        super().__init__(out, err)
        print(self._ROW.format("claim", "line", "code", "mods", "date", "payer", "decision",
                               "reasons (group-CARC RARCs rule)"), file=self.out)

    def result(self, result: ClaimResult) -> None:
        claim_id = _cell(result.claim_id)
        rows = []
        for line in result.lines:
            rows.append(self._ROW.format(
                claim_id, _cell(line.line_id or ""), line.code, ",".join(line.modifiers),
                line.date_of_service.isoformat(), result.payer, line.decision.value,
                _reasons(line.reasons),
            ).rstrip() + "\n")
        # Claim history (docs/history.md): earlier lines this claim changes, one row each, and a
        # note when the claim was judged alone or voided.
        for item in result.adjustments:
            rows.append(self._ROW.format(
                f"^ {_cell(item.claim_id)}", _cell(item.line_id), item.code,
                ",".join(item.modifiers), item.date_of_service.isoformat(), "adjusted",
                item.decision.value, _reasons(item.reasons) or f"(now {item.decision.value})",
            ).rstrip() + f" [because of claim {claim_id}]\n")
        note = _HISTORY_NOTES.get(result.history)
        if note is not None:
            rows.append(f"{claim_id:<38} {note}\n")
        self.out.write("".join(rows))  # all of a claim's rows, or none

    def close(self) -> None:
        print(f"\nsummary: {self.summary}", file=self.out)


_HISTORY_NOTES: dict[HistoryStatus | None, str] = {
    HistoryStatus.JUDGED_ALONE: "judged alone: no patient_id or provider_id, so no claim history",
    HistoryStatus.VOIDED: "voided: removed from the claim history (its lines as they would be "
                          "judged today, for information)",
    HistoryStatus.NOT_ON_FILE: "void of a claim not in the claim history: nothing removed",
}


def _reasons(reasons: tuple[Reason, ...]) -> str:
    return "; ".join(
        f"{r.group_code}-{r.carc} {' '.join(r.rarcs)} {r.rule_id}".replace("  ", " ")
        for r in reasons
    )


class FhirWriter(Writer):
    """A FHIR R4 Bundle (type ``collection``): a ClaimResponse per claim, an OperationOutcome per
    invalid record (also reported on ``err``). Needs the ``fhir`` extra; see
    :mod:`claimedit.adapters.fhir` for what the resources hold."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        # Imported here, not at the top: the core and its other writers run without the extra.
        from claimedit.adapters import fhir

        super().__init__(out, err)
        self._fhir = fhir
        self._first = True
        self.out.write('{"resourceType": "Bundle", "type": "collection", "entry": [')

    def _entry(self, resource: Any) -> None:
        entry = '{"resource": ' + resource.model_dump_json() + "}"
        self.out.write(("\n  " if self._first else ",\n  ") + entry)
        self._first = False

    def result(self, result: ClaimResult) -> None:
        self._entry(self._fhir.claim_response(result))

    def error(self, error: ClaimError) -> None:
        self._entry(self._fhir.operation_outcome(error))
        super().error(error)

    def close(self) -> None:
        self.out.write("\n]}\n")
        super().close()


def _cell(text: str) -> str:
    """A table cell from input text: characters that are not printable are dropped."""
    return text if text.isprintable() else "".join(char for char in text if char.isprintable())


WRITERS: dict[str, type[Writer]] = {
    "table": TableWriter, "json": JsonWriter, "jsonl": JsonLinesWriter, "fhir": FhirWriter,
}
