"""A rule pack's own policy tests: the case files under ``<pack>/tests/`` and their runner.

A case file is data an analyst reads next to the policy (sqlfluff's ``std_rule_cases`` style):
named claims, and for the lines under test the decision expected and the edits that must fire.
``claimedit rules test [PACK ...]`` runs them (:func:`run_pack_tests`); the project's pytest suite
runs the same files (one copy). The format is documented in ``docs/rule-pack-format.md``::

    rule: IGRT-TC-BUNDLED-INTO-IMRT          # the edit the file is about (file name = rule id);
                                             # omitted in acceptance.yaml and allow.yaml
    remit: {group_code: CO, carc: "97", rarcs: [M15]}   # optional: checked whenever it fires
    cases:
      - name: g6001_tc_with_imrt_same_day
        note: the policy sentence or fact the case rests on (optional)
        payer: commercial
        state: OH                            # optional
        date: 2025-03-03                     # date of service of every line unless it says so
        lines:
          - {code: "77385"}
          - {code: G6001, modifiers: [TC], expect: {decision: bundle, fires: true}}

Lines without ``expect`` are the claim around the lines under test. ``expect`` holds ``decision``
(required), ``fires`` (required in a rule file: does *that* edit fire on the line), ``rule_ids``
(optional: every edit that fires, order aside) and ``source`` (optional: the revision every
reason of the line comes from). Keys are checked strictly: a misspelt ``fire:`` is a problem of
the pack's tests (file, line, key), reported with every other one, not a case quietly ignored.

The case files are not rule files: the loader does not read ``tests/`` and the pack's content
hash does not cover it, so adding a case never changes the provenance stamped on results.

Example:
    >>> from claimedit.pack import packaged_rules_path
    >>> report = run_pack_tests(packaged_rules_path())
    >>> report.ok, report.failures
    (True, ())
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TextIO

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from claimedit.claims import Claim, parse_claim
from claimedit.engine import Engine
from claimedit.pack import Problem, RulePackError, packaged_rules_path
from claimedit.pack.yaml_source import load_yaml
from claimedit.results import ClaimError, Decision, LineResult, Reason

__all__ = [
    "TESTS_FOLDER",
    "CaseFailure",
    "Expectation",
    "PackTestReport",
    "PolicyCase",
    "case_files",
    "check_case",
    "load_cases",
    "packaged_packs",
    "register",
    "resolve_pack",
    "run_pack_tests",
    "write_report",
]

TESTS_FOLDER = "tests"
"""The folder of a pack that holds its case files (``<pack>/tests/*.yaml``)."""

# Files of the tests/ folder that are not about one edit: whole-claim acceptance examples, and
# the policy's "may be reported" sentences (only allow may come out of those).
_NOT_RULE_FILES = frozenset({"acceptance", "allow"})


def _text(value: Any) -> Any:
    # YAML reads 77385, 26 and 97 as numbers: a case file is written by people, so take them as
    # the text they are (the codes and modifiers are then checked by the claim model).
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_Text = Annotated[str, BeforeValidator(_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Expect(_Model):
    decision: Decision
    fires: bool | None = None
    rule_ids: list[str] | None = None
    source: str | None = None


class _Line(_Model):
    code: _Text
    modifiers: list[_Text] = Field(default_factory=list)
    date: dt.date | None = None
    expect: _Expect | None = None


class _Case(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    note: str | None = None
    payer: str
    state: str | None = None
    date: dt.date | None = None
    lines: list[_Line] = Field(min_length=1)


class _Remit(_Model):
    group_code: str
    carc: _Text
    rarcs: list[_Text]


class _CaseFile(_Model):
    rule: str | None = None
    remit: _Remit | None = None
    cases: list[_Case] = Field(min_length=1)


@dataclass(frozen=True)
class Expectation:
    """What a line under test must come out as."""

    position: int
    """0-based position of the line in the claim."""
    line: int | None
    """Line of the case file where the claim line is written."""
    decision: Decision
    fires: bool | None
    """Does the file's edit fire on the line (rule files only; None elsewhere)."""
    rule_ids: tuple[str, ...] | None
    """Every edit that fires, order aside (None: not checked)."""
    source: str | None
    """The revision every reason of the line comes from (None: not checked)."""


@dataclass(frozen=True)
class PolicyCase:
    """One named case: a claim, the edit its file is about, and the expected line results."""

    file: str
    """The case file as the pack names it, e.g. ``tests/IGRT-MEDICARE-77387.yaml``."""
    line: int | None
    """Line of the file where the case starts."""
    rule: str | None
    """The edit the file is about; None for ``acceptance.yaml`` and ``allow.yaml``."""
    remit: tuple[str, str, tuple[str, ...]] | None
    """Group code, CARC and RARCs the file's edit must carry when it fires."""
    name: str
    note: str | None
    claim: Claim
    expectations: tuple[Expectation, ...]

    @property
    def stem(self) -> str:
        """The file name without ``.yaml``: a rule id, ``acceptance`` or ``allow``."""
        return Path(self.file).stem

    @property
    def id(self) -> str:
        """``<file stem>_<case name>`` (sqlfluff style), unique within a pack."""
        return f"{self.stem}_{self.name}"


def case_files(pack: str | Path) -> list[Path]:
    """The case files of a pack (``tests/*.yaml`` and ``*.yml``), in name order; none when the
    pack has no ``tests/`` folder."""
    folder = Path(pack) / TESTS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_cases(pack: str | Path) -> list[PolicyCase]:
    """Every case of every case file of a pack, in file then case order.

    Raises :class:`RulePackError` listing every problem of every case file (file, line, key),
    as the loader does for rule files.

    Example:
        >>> cases = load_cases(packaged_rules_path())
        >>> cases[0].file, cases[0].claim.payer.value
        ('tests/IGRT-CODE-NOT-EFFECTIVE.yaml', 'commercial')
    """
    cases: list[PolicyCase] = []
    problems: list[Problem] = []
    for path in case_files(pack):
        found, wrong = _load_file(path, f"{TESTS_FOLDER}/{path.name}")
        cases += found
        problems += wrong
    if problems:
        raise RulePackError(str(pack), problems)
    return cases


def _load_file(path: Path, name: str) -> tuple[list[PolicyCase], list[Problem]]:
    data, lines, problems = load_yaml(path, name)
    if lines is None or problems:
        return [], problems
    try:
        model = _CaseFile.model_validate(data)
    except ValidationError as exc:
        for item in exc.errors(include_url=False):
            found, key = lines.locate(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key {key.rsplit('.', 1)[-1]!r}"
            elif item["type"] == "missing":
                key = ".".join(str(step) for step in item["loc"])
                message = f"missing key {item['loc'][-1]!r}"
            elif not key and item["type"] in ("model_type", "dict_type"):
                message = "the file is empty" if data is None else \
                    "expected a mapping of keys at the top of the file"
            problems.append(Problem(name, found, key, message))
        return [], problems

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(name, lines.locate(loc)[0], ".".join(map(str, loc)), message))

    rule = model.rule
    stem = path.stem
    if rule is not None and rule != stem:
        problem(("rule",), f"rule {rule} does not match the file name {path.name}")
    if rule is None and stem not in _NOT_RULE_FILES:
        problem((), f"no 'rule:': a case file is named after the edit it tests ({stem} is "
                    f"not {', '.join(sorted(_NOT_RULE_FILES))})")
    remit = None if model.remit is None else (
        model.remit.group_code, model.remit.carc, tuple(model.remit.rarcs))
    cases = []
    names: dict[str, int] = {}
    for number, case in enumerate(model.cases):
        at: tuple[str | int, ...] = ("cases", number)
        if case.name in names:
            problem((*at, "name"),
                    f"duplicate case name {case.name!r} (also case {names[case.name]})")
        names.setdefault(case.name, number)
        claim_lines = []
        expectations = []
        undated = False
        for position, entry in enumerate(case.lines):
            line_at = (*at, "lines", position)
            day = entry.date or case.date
            if day is None:
                problem(line_at, "no date of service: set date on the line or on the case")
                undated = True
            claim_lines.append({"line_id": str(position + 1), "code": entry.code,
                                "modifiers": entry.modifiers, "date_of_service": day})
            expect = entry.expect
            if expect is None:
                continue
            if rule is not None and expect.fires is None:
                problem((*line_at, "expect"), "missing key 'fires': does the file's edit fire?")
            if rule is None and expect.fires is not None:
                problem((*line_at, "expect", "fires"),
                        "'fires' needs a rule at the top of the file")
            expectations.append(Expectation(
                position=position, line=lines.locate(line_at)[0], decision=expect.decision,
                fires=expect.fires,
                rule_ids=None if expect.rule_ids is None else tuple(expect.rule_ids),
                source=expect.source,
            ))
        if not expectations:
            problem(at, f"case {case.name}: no line has an expect")
        if undated:
            continue
        claim = parse_claim({"claim_id": f"{stem}:{case.name}", "payer": case.payer,
                             "state": case.state, "lines": claim_lines})
        if isinstance(claim, ClaimError):
            for issue in claim.issues:
                # "lines.1.code" -> the line of the case file where that claim line is written
                steps = [int(s) if s.isdigit() else s for s in issue.field.split(".") if s]
                loc = (*at, *steps)
                problem(loc, f"case {case.name}: {issue.reason}")
            continue
        cases.append(PolicyCase(
            file=name, line=lines.locate(at)[0], rule=rule, remit=remit, name=case.name,
            note=case.note, claim=claim, expectations=tuple(expectations),
        ))
    return cases, problems


# -- running -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFailure:
    """A line under test that did not come out as its case says."""

    case: PolicyCase
    expectation: Expectation
    expected: str
    """What the case file says, in words: ``bundle; IGRT-TC-BUNDLED-INTO-IMRT fires``."""
    got: str
    """What the engine did, in the same words."""
    line: LineResult
    """The line's result, with every reason that fired."""

    def describe(self) -> str:
        """The failure as a test runner prints it: where, expected, got, the reasons fired.

        Example:
            >>> from claimedit import load_engine
            >>> engine = load_engine()
            >>> case = load_cases(packaged_rules_path())[0]
            >>> wrong = Expectation(1, 17, Decision.ALLOW, None, None, None)
            >>> print(check_case(engine, case, [wrong])[0].describe())  # doctest: +ELLIPSIS
            FAIL tests/IGRT-CODE-NOT-EFFECTIVE.yaml:17 g6001_26_day_before_it_existed, line 2 ...
              expected: allow
              got:      deny
              fired:    IGRT-CODE-NOT-EFFECTIVE deny CO-181 N56 (igrt-2025-08-04): ...
        """
        line = self.line
        billed = "-".join((line.code, *line.modifiers))
        where = self.case.file if self.expectation.line is None \
            else f"{self.case.file}:{self.expectation.line}"
        out = [f"FAIL {where} {self.case.name}, line {self.expectation.position + 1} "
               f"({billed} on {line.date_of_service}, {self.case.claim.payer.value})",
               f"  expected: {self.expected}", f"  got:      {self.got}"]
        if not line.reasons:
            out.append("  fired:    no edit")
        for number, reason in enumerate(line.reasons):
            out.append(f"  {'fired:' if number == 0 else '':<9} {_reason_words(reason)}")
        return "\n".join(out)


def _reason_words(reason: Reason) -> str:
    rarcs = " ".join(reason.rarcs)
    return (f"{reason.rule_id} {reason.decision.value} {reason.group_code}-{reason.carc}"
            f"{' ' + rarcs if rarcs else ''} ({reason.source}): {reason.message}")


def check_case(
    engine: Engine, case: PolicyCase, expectations: Iterable[Expectation] | None = None
) -> list[CaseFailure]:
    """Evaluate a case's claim and compare every line under test with its expectation (the
    case's own, or ``expectations``); an empty list when all hold.

    Example:
        >>> from claimedit import load_engine
        >>> check_case(load_engine(), load_cases(packaged_rules_path())[0])
        []
    """
    result = engine.evaluate(case.claim)
    failures = []
    for expected in case.expectations if expectations is None else expectations:
        line = result.lines[expected.position]
        failure = _compare(case, expected, line)
        if failure is not None:
            failures.append(CaseFailure(case, expected, *failure, line))
    return failures


def _compare(
    case: PolicyCase, expected: Expectation, line: LineResult
) -> tuple[str, str] | None:
    """Expected and got in words when they differ: the decision always (it is the context),
    the other facets the case checks only where they differ."""
    fired = line.rule_ids
    facets: list[tuple[str, str]] = []  # (expected, got) of the facets that differ
    if case.rule is not None and expected.fires is not None:
        does = case.rule in fired
        if does is not expected.fires:
            facets.append((f"{case.rule} {'fires' if expected.fires else 'does not fire'}",
                           f"{case.rule} {'fires' if does else 'does not fire'}"))
        if does and case.remit is not None:
            group, carc, rarcs = case.remit
            codes = {(r.group_code, r.carc, r.rarcs)
                     for r in line.reasons if r.rule_id == case.rule}
            if codes != {(group, carc, rarcs)}:
                facets.append((f"remit {group}-{carc} {' '.join(rarcs)}".rstrip(),
                               "remit " + ", ".join(f"{g}-{c} {' '.join(r)}".rstrip()
                                                    for g, c, r in sorted(codes))))
    if expected.rule_ids is not None and sorted(fired) != sorted(expected.rule_ids):
        facets.append((f"rule ids [{', '.join(sorted(expected.rule_ids))}]",
                       f"rule ids [{', '.join(sorted(fired))}]"))
    if expected.source is not None:
        sources = sorted({reason.source for reason in line.reasons})
        if sources != [expected.source]:
            facets.append((f"source {expected.source}",
                           f"source {', '.join(sources) or '(no reason fired)'}"))
    if line.decision is expected.decision and not facets:
        return None
    want = "; ".join([expected.decision.value, *(want for want, _ in facets)])
    got = "; ".join([line.decision.value, *(got for _, got in facets)])
    return want, got


@dataclass(frozen=True)
class PackTestReport:
    """The outcome of running one pack's case files."""

    pack: str
    """The pack's directory."""
    engine: Engine
    cases: tuple[PolicyCase, ...]
    failures: tuple[CaseFailure, ...]
    coverage: tuple[str, ...] = field(default=())
    """What the case files leave untested: an edit without a case file, a case file about no
    edit of the pack, a rule file that never shows its edit firing (or never quiet)."""

    @property
    def lines_checked(self) -> int:
        return sum(len(case.expectations) for case in self.cases)

    @property
    def ok(self) -> bool:
        """Every line under test as expected, and every edit tested both ways."""
        return bool(self.cases) and not self.failures and not self.coverage


def run_pack_tests(
    pack: str | Path, *, overlays: Sequence[str | Path] = (), engine: Engine | None = None
) -> PackTestReport:
    """Load a pack (and its overlays), run every case of its ``tests/`` folder, and check that
    every edit has a case file showing it fire and stay quiet.

    Raises :class:`RulePackError` when the pack or one of its case files is broken.
    """
    if engine is None:
        from claimedit.engine import load_engine  # the engine module imports nothing of ours

        engine = load_engine(pack, overlays=overlays)
    cases = load_cases(pack)
    failures = tuple(failure for case in cases for failure in check_case(engine, case))
    return PackTestReport(str(pack), engine, tuple(cases), failures, _coverage(engine, cases))


def _coverage(engine: Engine, cases: list[PolicyCase]) -> tuple[str, ...]:
    pack = engine.pack
    ids = {item.edit.id for item in pack.edits}
    for overlay in pack.overlays:
        ids |= {item.edit.id for item in overlay.edits}
    files = {Path(case.file).stem for case in cases}
    gaps = [f"edit {rule_id} has no case file {TESTS_FOLDER}/{rule_id}.yaml"
            for rule_id in sorted(ids - files)]
    gaps += [f"{TESTS_FOLDER}/{stem}.yaml is about no edit of the pack (renamed or removed?)"
             for stem in sorted(files - ids - _NOT_RULE_FILES)]
    seen: dict[str, set[bool]] = {}
    for case in cases:
        if case.rule is not None:
            for expected in case.expectations:
                if expected.fires is not None:
                    seen.setdefault(case.rule, set()).add(expected.fires)
    for rule, shown in sorted(seen.items()):
        if shown != {True, False}:
            lacking = "firing" if True not in shown else "not firing"
            gaps.append(f"{TESTS_FOLDER}/{rule}.yaml has no case showing {rule} {lacking}")
    return tuple(gaps)


# -- which pack ----------------------------------------------------------------------------------


def packaged_packs() -> dict[str, Path]:
    """The packs shipped with the library, by id (folder name), e.g. ``{"igrt": ...}``."""
    root = packaged_rules_path().parent
    return {item.name: item for item in sorted(root.iterdir())
            if item.is_dir() and (item / "pack.yaml").is_file()}


def resolve_pack(spec: str | Path) -> Path:
    """A pack named on the command line: a directory, else the name of a packaged pack.

    Example:
        >>> resolve_pack("igrt").name
        'igrt'
    """
    path = Path(spec)
    if path.is_dir():
        return path
    found = packaged_packs().get(str(spec))
    if found is None:
        names = ", ".join(packaged_packs())
        raise RulePackError(str(spec), [Problem(str(spec), None, "", (
            f"no such rule pack directory, and not a packaged pack ({names})"))])
    return found


# -- the command: claimedit rules test ---------------------------------------------------------


def write_report(report: PackTestReport, out: TextIO, *, verbose: bool = False) -> None:
    """Print a pack's test run as a test runner does: each failure with expected and got and
    the reasons that fired, the coverage gaps, then one summary line."""
    p = report.engine.provenance
    print(f"rules test {report.pack}: {p.pack} {p.version} {p.content_hash}", file=out)
    failed = {failure.case.id for failure in report.failures}
    if verbose:
        for case in report.cases:
            print(f"{'FAIL' if case.id in failed else 'ok':<4} {case.file} {case.name}", file=out)
    for failure in report.failures:
        print(failure.describe(), file=out)
    for gap in report.coverage:
        print(f"GAP  {gap}", file=out)
    if not report.cases:
        print(f"no cases: {report.pack} has no {TESTS_FOLDER}/*.yaml, so nothing is tested",
              file=out)
    files = len({case.file for case in report.cases})
    verdict = "passed" if report.ok else "FAILED"
    print(f"{p.pack}: {verdict}: {len(report.cases)} cases in {files} files, "
          f"{report.lines_checked} lines checked, {len(report.failures)} failed, "
          f"{len(report.coverage)} coverage gaps", file=out)



def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``claimedit rules test`` to the ``rules`` subcommands."""
    test = commands.add_parser(
        "test", help="run the case files a rule pack ships (tests/*.yaml), like a test runner",
        description="Run each pack's tests/*.yaml cases. Exit 0 when every line under test comes "
                    "out as expected and every edit is tested firing and not firing, 1 when "
                    "not, 2 when a pack or a case file is broken.",
        epilog="example: claimedit rules test rules/igrt")
    test.add_argument("packs", nargs="*", metavar="PACK",
                      help="a rule pack directory or the name of a packaged pack "
                           "(default: every packaged pack)")
    test.add_argument("--overlay", action="append", default=[], metavar="FILE",
                      help="a state-exception file <ST>.yaml kept outside the pack (repeatable)")
    test.add_argument("-v", "--verbose", action="store_true", help="list every case, passed too")
    test.set_defaults(run=_command)


def _command(args: argparse.Namespace) -> int:
    packs = [resolve_pack(spec) for spec in args.packs] or list(packaged_packs().values())
    ok = True
    for number, pack in enumerate(packs):
        if number:
            print(file=sys.stdout)
        # A broken pack or case file raises RulePackError: the CLI prints every problem, exit 2.
        report = run_pack_tests(pack, overlays=args.overlay)
        write_report(report, sys.stdout, verbose=args.verbose)
        ok &= report.ok
    return 0 if ok else 1
