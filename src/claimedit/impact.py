"""The impact of a rule-pack change: the same claims under the old and the new rules.

:class:`ImpactReport` evaluates each claim with both engines in one pass over the input and keeps
only aggregates (flat memory, however many claims): the lines whose decision changed, grouped by
old decision -> new decision and by the rule ids that appeared or disappeared on them, with line
counts, billed-charge totals where the lines carry a charge, the payer types and months of
service they fall in, and a few example claim / line ids (ids only, never other claim data).
Lines whose decision stayed but whose reasons changed (another edit, another CARC) are counted
apart, since they change the remittance but not what is paid.

``claimedit diff --old RULES --new RULES CLAIMS...`` prints it as a table, as JSON
(:meth:`ImpactReport.to_dict`), or as one offline HTML page (:mod:`claimedit.impact_html`).

Example:
    >>> import claimedit
    >>> engine = claimedit.load_engine()
    >>> report = ImpactReport(engine, engine)
    >>> report.add({"claim_id": "C1", "payer": "commercial", "lines": [
    ...     {"code": "77385", "date_of_service": "2025-03-03"}]})
    >>> report.changed_lines, report.lines
    (0, 1)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from claimedit.claims import Claim, parse_claim
from claimedit.engine import Engine, InvalidClaimError, load_engine
from claimedit.limits import printable
from claimedit.pack import Problem, RulePackError
from claimedit.policy_tests import resolve_pack
from claimedit.results import ClaimError, Decision, LineResult

__all__ = [
    "EXAMPLES", "Group", "ImpactReport", "Tally", "diff_claims", "load_rules", "register",
    "write_table",
]

EXAMPLES = 5
"""Example claim / line ids kept per group."""

_ALLOW, _BUNDLE, _DENY = Decision.ALLOW, Decision.BUNDLE, Decision.DENY
_DECISIONS = (_ALLOW, _BUNDLE, _DENY)
_ZERO = Decimal(0)


class Tally:
    """Lines and the billed charge of those that carry one (a cell of a breakdown)."""

    __slots__ = ("charge", "charged", "lines")

    def __init__(self) -> None:
        self.lines = 0
        self.charged = 0
        """How many of the lines carry a charge."""
        self.charge = _ZERO

    def add(self, charge: Decimal | None) -> None:
        self.lines += 1
        if charge is not None:
            self.charged += 1
            self.charge += charge

    @property
    def charge_text(self) -> str | None:
        """The charge total as JSON gives it (``"123.45"``), ``None`` when no line has one."""
        return str(self.charge) if self.charged else None

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "charge": self.charge_text,
                "charge_unknown_lines": self.lines - self.charged}


class Group(Tally):
    """Changed lines sharing old decision, new decision and the rule ids that appeared or
    disappeared (``rules_recoded``: edits on both sides whose group code / CARC / RARCs differ)."""

    __slots__ = ("examples", "months", "new", "old", "payers", "rules_added", "rules_recoded",
                 "rules_removed")

    def __init__(self, old: Decision, new: Decision, added: tuple[str, ...],
                 removed: tuple[str, ...], recoded: tuple[str, ...]) -> None:
        super().__init__()
        self.old, self.new = old, new
        self.rules_added, self.rules_removed, self.rules_recoded = added, removed, recoded
        self.payers: dict[str, int] = {}
        self.months: dict[str, int] = {}
        self.examples: list[tuple[str, str | None]] = []

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.old.value, "to": self.new.value,
            "rules_added": list(self.rules_added), "rules_removed": list(self.rules_removed),
            "rules_recoded": list(self.rules_recoded),
            **super().to_dict(),
            "payers": dict(sorted(self.payers.items())),
            "months": dict(sorted(self.months.items())),
            "examples": [{"claim_id": claim, "line_id": line} for claim, line in self.examples],
        }


def _signature(line: LineResult) -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    # What a remittance shows of a line's reasons: a new citation or message alone is no change.
    return tuple(sorted((r.rule_id, r.group_code, r.carc, r.rarcs) for r in line.reasons))


class ImpactReport:
    """Aggregates of the same claims evaluated under ``old`` and ``new`` (see the module).

    Feed it with :meth:`add` (a claim, a dict or JSON text) or :meth:`add_error`; read
    :attr:`changed_lines`, :attr:`groups`, the breakdowns, or :meth:`to_dict`.
    """

    def __init__(self, old: Engine, new: Engine, *, examples: int = EXAMPLES) -> None:
        self.old, self.new = old, new
        self.examples = examples
        self.claims = 0
        self.lines = 0
        self.invalid = 0
        self.old_decisions = dict.fromkeys(_DECISIONS, 0)
        """Every line by its old decision (with the groups, this gives the whole flip matrix)."""
        self._groups: dict[tuple[Any, ...], Group] = {}
        self._recoded: dict[tuple[Any, ...], Group] = {}
        self.by_rule: dict[tuple[str, str], Tally] = {}
        """``(rule id, "added" | "removed")`` -> the changed lines it appeared / disappeared on."""
        self.by_payer: dict[str, Tally] = {}
        self.by_month: dict[str, Tally] = {}
        self.payable = Tally()
        """Changed lines that became allowed (their charge becomes payable)."""
        self.unpayable = Tally()
        """Changed lines that were allowed and are no longer."""

    # -- feeding -------------------------------------------------------------------------------

    def add(self, claim: Claim | Mapping[str, Any] | str | bytes) -> None:
        """Evaluate one claim under both packs and count its lines.

        Raises :class:`InvalidClaimError` when ``claim`` is not a valid claim (count such a
        record with :meth:`add_error` instead)."""
        if not isinstance(claim, Claim):
            parsed = parse_claim(claim)
            if isinstance(parsed, ClaimError):
                raise InvalidClaimError(parsed)
            claim = parsed
        old = self.old.evaluate(claim).lines
        new = self.new.evaluate(claim).lines
        self.claims += 1
        self.lines += len(old)
        allow = bundle = 0
        # The hot loop: most lines keep their decision and reasons, and cost two comparisons.
        for position, old_line in enumerate(old):
            new_line = new[position]
            decision = old_line.decision
            if decision is _ALLOW:
                allow += 1
            elif decision is _BUNDLE:
                bundle += 1
            if decision is new_line.decision and (
                    old_line.reasons == new_line.reasons
                    or _signature(old_line) == _signature(new_line)):
                continue
            self._changed(claim, position, old_line, new_line)
        counts = self.old_decisions
        counts[_ALLOW] += allow
        counts[_BUNDLE] += bundle
        counts[_DENY] += len(old) - allow - bundle

    def add_error(self, error: ClaimError) -> None:
        """Count an input record that is not a valid claim."""
        self.invalid += 1

    def _changed(self, claim: Claim, position: int, old: LineResult, new: LineResult) -> None:
        old_ids, new_ids = set(old.rule_ids), set(new.rule_ids)
        added = tuple(sorted(new_ids - old_ids))
        removed = tuple(sorted(old_ids - new_ids))
        both = old_ids & new_ids
        old_codes = {r.rule_id: (r.group_code, r.carc, r.rarcs) for r in old.reasons}
        recoded = tuple(sorted(rule for rule in both if rule in old_codes and any(
            r.rule_id == rule and (r.group_code, r.carc, r.rarcs) != old_codes[rule]
            for r in new.reasons)))
        key = (old.decision, new.decision, added, removed, recoded)
        flipped = old.decision is not new.decision
        groups = self._groups if flipped else self._recoded
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(*key)
        line = claim.lines[position]
        charge = line.charge
        day = line.date_of_service
        month = f"{day.year:04d}-{day.month:02d}"
        payer = claim.payer.value
        group.add(charge)
        group.payers[payer] = group.payers.get(payer, 0) + 1
        group.months[month] = group.months.get(month, 0) + 1
        if len(group.examples) < self.examples:
            group.examples.append((claim.claim_id, old.line_id))
        if not flipped:
            return
        # Breakdowns of the lines whose decision changed: what moves money.
        for rule_ids, side in ((added, "added"), (removed, "removed")):
            for rule_id in rule_ids:
                self.by_rule.setdefault((rule_id, side), Tally()).add(charge)
        self.by_payer.setdefault(payer, Tally()).add(charge)
        self.by_month.setdefault(month, Tally()).add(charge)
        if new.decision is _ALLOW:
            self.payable.add(charge)
        elif old.decision is _ALLOW:
            self.unpayable.add(charge)

    # -- reading -------------------------------------------------------------------------------

    @property
    def groups(self) -> list[Group]:
        """Groups of lines whose decision changed, most lines first."""
        return _ordered(self._groups)

    @property
    def recoded_groups(self) -> list[Group]:
        """Groups of lines whose decision stayed but whose reasons changed."""
        return _ordered(self._recoded)

    @property
    def changed_lines(self) -> int:
        """Lines whose decision changed."""
        return sum(group.lines for group in self._groups.values())

    @property
    def changed(self) -> Tally:
        """Lines whose decision changed, with their charge."""
        total = Tally()
        for group in self._groups.values():
            total.lines += group.lines
            total.charged += group.charged
            total.charge += group.charge
        return total

    def matrix(self) -> dict[Decision, dict[Decision, int]]:
        """The flip matrix: old decision -> new decision -> lines (unchanged on the diagonal)."""
        cells = {old: dict.fromkeys(_DECISIONS, 0) for old in _DECISIONS}
        for group in self._groups.values():
            cells[group.old][group.new] += group.lines
        for decision in _DECISIONS:
            cells[decision][decision] = self.old_decisions[decision] - sum(
                cells[decision].values())
        return cells

    def to_dict(self) -> dict[str, Any]:
        """JSON data: ``changed_lines``, ``lines``, ``groups``, ``old``, ``new`` (the pinned
        shape of issue 13), then the breakdowns and the lines whose reasons alone changed."""
        changed = self.changed
        return {
            "changed_lines": changed.lines,
            "lines": self.lines,
            "groups": [group.to_dict() for group in self.groups],
            "old": self.old.provenance.to_dict(),
            "new": self.new.provenance.to_dict(),
            "claims": self.claims,
            "invalid_records": self.invalid,
            "changed_charge": changed.charge_text,
            "became_payable": self.payable.to_dict(),
            "no_longer_payable": self.unpayable.to_dict(),
            "matrix": {old.value: {new.value: count for new, count in row.items()}
                       for old, row in self.matrix().items()},
            "by_rule": [{"rule_id": rule, "side": side, **tally.to_dict()}
                        for (rule, side), tally in _by_lines(self.by_rule)],
            "by_payer": {payer: tally.to_dict() for payer, tally in sorted(self.by_payer.items())},
            "by_month": {month: tally.to_dict() for month, tally in sorted(self.by_month.items())},
            "reasons_changed_lines": sum(group.lines for group in self._recoded.values()),
            "reasons_changed": [group.to_dict() for group in self.recoded_groups],
        }


def _ordered(groups: dict[tuple[Any, ...], Group]) -> list[Group]:
    return sorted(groups.values(), key=lambda g: (
        -g.lines, g.old.severity, g.new.severity, g.rules_added, g.rules_removed, g.rules_recoded))


def _by_lines(tallies: dict[tuple[str, str], Tally]) -> list[tuple[tuple[str, str], Tally]]:
    return sorted(tallies.items(), key=lambda item: (-item[1].lines, item[0]))


# -- which rules -------------------------------------------------------------------------------


def load_rules(specs: Sequence[str]) -> Engine:
    """An engine from ``--old`` / ``--new`` values: a pack (directory or packaged name), and any
    state-overlay files (``<ST>.yaml``) to apply to it.

    Example:
        >>> load_rules(["igrt"]).provenance.pack
        'igrt'
    """
    packs = []
    overlays = []
    for spec in specs:
        path = Path(spec)
        if path.suffix in (".yaml", ".yml") and not path.is_dir():
            overlays.append(path)
        else:
            packs.append(resolve_pack(spec))
    if len(packs) != 1:
        raise RulePackError(" ".join(specs), [Problem(" ".join(specs), None, "", (
            "name one rule pack (a directory or a packaged pack's name), plus any overlay "
            f"files; got {len(packs)} packs"))])
    return load_engine(packs[0], overlays=overlays)


# -- the command: claimedit diff -----------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser],
             records: Callable[..., Iterator[Any]]) -> None:
    """Add ``claimedit diff``; ``records`` reads the input files as ``claimedit check`` does."""
    from claimedit.inputs import FORMATS

    diff = commands.add_parser(
        "diff", help="the same claims under two rule packs: which decisions change, how much money",
        description="Evaluate the claims under the old and the new rules in one pass and report "
                    "the lines whose decision changed, grouped by old -> new decision and the "
                    "rule ids that appeared or disappeared, with line counts, charge totals, "
                    "payer types, months and example ids. Exit 0 when every record was read "
                    "(changes or not), 1 when some records were invalid, 2 on a broken pack.",
        epilog="example: claimedit diff --old igrt --new rules/igrt examples/claims.jsonl\n"
               "example (illustrative): claimedit diff --old igrt --new my-igrt-copy "
               "claims.jsonl --html impact.html")
    diff.add_argument("files", nargs="+", metavar="CLAIMS",
                      help="claims: JSON, JSON Lines, CSV, FHIR JSON or X12 837; - reads stdin")
    diff.add_argument("--old", action="append", required=True, metavar="RULES",
                      help="the rules in force: a pack directory or packaged pack name; repeat "
                           "to add state-overlay files (<ST>.yaml)")
    diff.add_argument("--new", action="append", required=True, metavar="RULES",
                      help="the changed rules, as --old")
    diff.add_argument("--format", choices=("table", "json"), default="table",
                      help="output on stdout (default: table)")
    diff.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    diff.add_argument("--examples", type=int, default=EXAMPLES, metavar="N",
                      help=f"example claim / line ids per group (default {EXAMPLES})")
    diff.add_argument("--input-format", choices=sorted(FORMATS), default=None,
                      help="input format (default: by file extension, else by content)")
    diff.set_defaults(run=lambda args: _command(args, records))


def _command(args: argparse.Namespace, records: Callable[..., Iterator[Any]]) -> int:
    old, new = load_rules(args.old), load_rules(args.new)
    report = ImpactReport(old, new, examples=max(0, args.examples))
    add, add_error = report.add, report.add_error
    def warn(message: str) -> None:  # empty files, duplicate claim ids: said, not counted
        print(f"warning: {printable(message)}", file=sys.stderr)

    for record in records(args.files, args.input_format, None, warn):
        item = record.data
        if not isinstance(item, ClaimError):
            item = parse_claim(item, source=record.source, record=record.number)
        if isinstance(item, ClaimError):
            add_error(item)
            print(f"error: {item}", file=sys.stderr)
            continue
        add(item)
    if args.html:
        from claimedit.impact_html import write_html

        with open(args.html, "w", encoding="utf-8") as handle:
            write_html(report, handle)
    if args.format == "json":
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()
    else:
        write_table(report, sys.stdout)
    return 1 if report.invalid else 0


def _money(tally: Tally) -> str:
    if not tally.charged:
        return "-"
    text = f"{tally.charge:,.2f}"
    return text if tally.charged == tally.lines else \
        f"{text} ({tally.charged} of {tally.lines} lines have a charge)"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _counts(counts: Mapping[str, int], limit: int = 3) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{name} {count}" for name, count in ordered[:limit])
    return shown + (f", +{len(ordered) - limit} more" if len(ordered) > limit else "")


def write_table(report: ImpactReport, out: TextIO) -> None:
    """The report for people: totals, then one block per group."""
    for side, engine in (("old", report.old), ("new", report.new)):
        p = engine.provenance
        print(f"{side}: {p.pack} {p.version} {p.content_hash}", file=out)
    changed = report.changed
    share = f" ({changed.lines / report.lines:.2%})" if report.lines else ""
    print(f"{_n(report.claims, 'claim')}, {_n(report.lines, 'line')}; "
          f"{_n(changed.lines, 'line')} changed decision{share}, billed charge {_money(changed)}; "
          f"{_n(report.invalid, 'invalid record')}", file=out)
    if changed.lines:
        print(f"  became payable: {_n(report.payable.lines, 'line')}, {_money(report.payable)}; "
              f"no longer payable: {_n(report.unpayable.lines, 'line')}, "
              f"{_money(report.unpayable)}", file=out)
    for title, groups in (("decision changed", report.groups),
                          ("same decision, other reasons", report.recoded_groups)):
        if not groups:
            continue
        print(f"\n{title}:", file=out)
        for group in groups:
            rules = [f"+{rule}" for rule in group.rules_added]
            rules += [f"-{rule}" for rule in group.rules_removed]
            rules += [f"~{rule}" for rule in group.rules_recoded]
            print(f"  {group.old.value} -> {group.new.value}: {_n(group.lines, 'line')}, charge "
                  f"{_money(group)}  {' '.join(rules) or '(same rules)'}", file=out)
            print(f"    payer types: {_counts(group.payers)}; months: {_counts(group.months)}",
                  file=out)
            examples = ", ".join(f"{claim}/{line}" for claim, line in group.examples)
            print(f"    e.g. {examples}", file=out)


def diff_claims(old: Engine, new: Engine, claims: Iterable[Claim | Mapping[str, Any]]
                ) -> ImpactReport:
    """Evaluate ``claims`` under both engines; invalid ones are counted, not raised.

    Example:
        >>> import claimedit
        >>> engine = claimedit.load_engine()
        >>> diff_claims(engine, engine, [{"claim_id": "C1", "payer": "x", "lines": []}]).invalid
        1
    """
    report = ImpactReport(old, new)
    for number, claim in enumerate(claims, start=1):
        parsed = parse_claim(claim, record=number)
        if isinstance(parsed, ClaimError):
            report.add_error(parsed)
        else:
            report.add(parsed)
    return report
