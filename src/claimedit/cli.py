"""The ``claimedit`` command line.

    claimedit check FILE... [--format table|json|jsonl] [--rules PATH] [--input-format F]
    claimedit explain CODE[-MOD...] --date YYYY-MM-DD --payer P [--with CODE...] [--state ST]
    claimedit rules check [PATH]
    claimedit rules show [--as-of DATE] [--payer P] [--state ST] [--rules PATH] [--json]
    claimedit history show --patient ID [--history PATH_OR_URL] [--json]

Exit status (ruff's and flake8's convention, one meaning each): 0 every record was decided; 1 some
input records were invalid or unreadable, each reported (every other record is still evaluated and
written); 2 a usage error, a broken rule pack, a missing extra, or an internal error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

import yaml
from pydantic import ValidationError

from claimedit import __version__
from claimedit.adapters import MissingExtraError, PayerMap
from claimedit.claims import Payer, issues_of, parse_claim
from claimedit.engine import Engine, InvalidClaimError, load_engine
from claimedit.history import HistoryError
from claimedit.history import command as history_command
from claimedit.inputs import FORMATS, HEAD_SIZE, Record, detect_format, read_jsonl, read_records
from claimedit.outputs import WRITERS
from claimedit.pack import RulePackError, SourcedEdit, load_pack, packaged_rules_path
from claimedit.results import ClaimError, FieldIssue

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
        return status
    except RulePackError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    except MissingExtraError as exc:  # e.g. --format fhir without the fhir extra
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except HistoryError as exc:  # the store cannot be opened or used
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `claimedit check big.jsonl | head`
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimedit", description="Apply a reimbursement policy rule pack to claim lines."
    )
    parser.add_argument("--version", action="version", version=f"claimedit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="evaluate claims from files or stdin")
    check.add_argument("files", nargs="+", metavar="FILE",
                       help="JSON, JSON Lines, CSV, FHIR JSON or X12 837; - reads stdin")
    check.add_argument("--format", choices=sorted(WRITERS), default="table", help="output format")
    check.add_argument("--input-format", choices=sorted(FORMATS), default=None,
                       help="input format (default: by file extension, else by content)")
    check.add_argument("--payer-map", metavar="FILE", type=_payer_map,
                       help="YAML: how X12 / FHIR payer information maps to payer types "
                            "(overrides of the defaults, see docs/interoperability.md)")
    history_command.add_history_option(check)
    _rules_options(check)
    check.set_defaults(run=_check)

    explain = commands.add_parser("explain",
                                  help="evaluate one line and show every edit that fired")
    explain.add_argument("code", help="procedure code, modifiers after dashes: G6001-TC, 77387-26")
    explain.add_argument("--date", required=True, type=_date, help="date of service YYYY-MM-DD")
    explain.add_argument("--payer", required=True, help="medicare, medicaid or commercial")
    explain.add_argument("--with", dest="same_day", nargs="*", default=[], metavar="CODE",
                         help="codes billed on other lines the same date of service")
    explain.add_argument("--modifier", "-m", action="append", default=[], help="a modifier")
    explain.add_argument("--state", help="two-letter state (selects state exceptions)")
    _rules_options(explain)
    explain.set_defaults(run=_explain)

    rules = commands.add_parser("rules", help="validate or show a rule pack")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    rules_check = rules_commands.add_parser("check",
                                            help="validate a rule pack, list every problem")
    rules_check.add_argument("path", nargs="?", help="rule pack directory (default: packaged)")
    rules_check.add_argument("--overlay", action="append", default=[], metavar="FILE",
                             help="a state-exception file <ST>.yaml kept outside the pack")
    rules_check.set_defaults(run=_rules_check)
    show = rules_commands.add_parser("show", help="print the edits in force")
    show.add_argument("--as-of", type=_date, default=dt.date.today(), help="date of service")
    show.add_argument("--payer", help="only edits for this payer type")
    show.add_argument("--state", help="apply this state's exceptions")
    _rules_options(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_rules_show)
    history_command.register(commands)
    return parser


def _rules_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", metavar="PATH", help="rule pack directory (default: packaged)")
    parser.add_argument("--overlay", action="append", default=[], metavar="FILE",
                        help="a state-exception file <ST>.yaml kept outside the pack (repeatable)")


def _engine(args: argparse.Namespace) -> Engine:
    return load_engine(args.rules, overlays=args.overlay)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _payer_map(path: str) -> PayerMap:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        return PayerMap.model_validate(data or {})
    except (OSError, yaml.YAMLError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{issue.field}: {issue.reason}" for issue in issues_of(exc))
        raise argparse.ArgumentTypeError(f"{path}: {problems}") from None


def _records(
    files: Sequence[str], fmt: str | None, payer_map: PayerMap | None = None
) -> Iterator[Record]:
    """Every record of every file, in order; a file that cannot be read is one error record."""
    for name in files:
        try:
            # Binary: JSON Lines records go to pydantic-core as bytes, undecoded (the fast path);
            # other formats are decoded as UTF-8 text.
            handle: io.BufferedReader = (
                # closed in the finally below (stdin stays open): no `with` around a generator
                sys.stdin.buffer if name == "-"
                else open(name, "rb")  # type: ignore[assignment]  # noqa: SIM115
            )
        except OSError as exc:
            yield _unreadable(name, exc.strerror or str(exc))
            continue
        text: io.TextIOWrapper | None = None
        try:
            chosen = fmt or detect_format(
                name, handle.peek(HEAD_SIZE)[:HEAD_SIZE].decode("utf-8", "replace")
            )
            if chosen == "jsonl":
                yield from read_jsonl(handle, name)
            else:
                # utf-8-sig: spreadsheet exports start with a byte-order mark.
                text = io.TextIOWrapper(handle, "utf-8-sig", newline="")
                yield from read_records(text, name, chosen, payer_map)
        except (OSError, UnicodeDecodeError) as exc:
            yield _unreadable(name, str(exc))
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()
            elif text is not None:
                # A collected wrapper closes its buffer: detached, stdin stays open for a
                # second "-" (which then reads nothing) instead of failing with ValueError.
                text.detach()


def _unreadable(name: str, reason: str) -> Record:
    issue = FieldIssue("", f"cannot read: {reason}")
    return Record(name, 0, ClaimError(name, 0, None, (issue,)))


def _check(args: argparse.Namespace) -> int:
    engine = _engine(args)
    writer = WRITERS[args.format](sys.stdout, sys.stderr)
    write, evaluate = writer.write, engine.evaluate
    if args.history is not None:
        history_command.check_with_history(
            args, engine, writer, _records(args.files, args.input_format, args.payer_map))
        writer.close()
        return EXIT_INVALID if writer.summary.invalid else EXIT_OK
    # One loop from record to output (no generator between the stages: it is the hot path).
    for record in _records(args.files, args.input_format, args.payer_map):
        item = record.data
        if not isinstance(item, ClaimError):
            item = parse_claim(item, source=record.source, record=record.number)
            if not isinstance(item, ClaimError):
                item = evaluate(item)
        write(item)
    writer.close()
    return EXIT_INVALID if writer.summary.invalid else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    engine = _engine(args)
    code, *modifiers = args.code.split("-")
    modifiers += args.modifier
    try:
        result = engine.evaluate_line(
            {"code": code, "modifiers": modifiers, "date_of_service": args.date},
            payer=args.payer, same_day_codes=args.same_day, state=args.state,
        )
    except InvalidClaimError as exc:
        print(f"error: {'; '.join(f'{i.field}: {i.reason}' for i in exc.error.issues)}",
              file=sys.stderr)
        return EXIT_ERROR
    billed = "-".join((result.code, *result.modifiers))
    context = f", with {' '.join(args.same_day)} the same day" if args.same_day else ""
    state = f", state {args.state.upper()}" if args.state else ""
    print(f"{billed} on {args.date}, {Payer(args.payer).value}{state}{context}: "
          f"{result.decision.value.upper()}")
    if not result.reasons:
        print("  no edit fired")
    for reason in result.reasons:
        rarcs = " ".join(reason.rarcs)
        print(f"  {reason.rule_id}: {reason.decision.value}, {reason.group_code}-{reason.carc} "
              f"{rarcs} (from {reason.source})")
        print(f"    {reason.message}")
        print(f"    cites {reason.citation}")
    p = engine.provenance
    print(f"rules: {p.pack} {p.version} {p.content_hash} (claimedit {p.library})")
    return EXIT_OK


def _rules_check(args: argparse.Namespace) -> int:
    path = args.path or packaged_rules_path()
    pack = load_pack(path, args.overlay)  # a RulePackError is printed with every problem by main()
    overlays = ", ".join(o.state for o in pack.overlays) or "none"
    print(f"ok: {path}: {pack.meta.id} {pack.meta.version} {pack.content_hash} "
          f"(checked by claimedit {__version__})")
    print(f"  {len(pack.codes)} codes, {len(pack.edits)} edits in {len(pack.revisions)} revisions, "
          f"state overlays: {overlays}")
    return EXIT_OK


def _rules_show(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        payer = Payer(args.payer) if args.payer else None
    except ValueError:
        print(f"error: unknown payer {args.payer!r}: medicare, medicaid or commercial",
              file=sys.stderr)
        return EXIT_ERROR
    state = args.state.strip().upper() if args.state else None
    if state is not None and not (len(state) == 2 and state.isalpha()):
        print(f"error: {args.state!r} is not a two-letter state code", file=sys.stderr)
        return EXIT_ERROR
    edits = engine.edits_in_force(args.as_of, payer=payer, state=state)
    if args.json:
        rows = [{"id": item.edit.id, "kind": item.edit.kind, "source": item.source,
                 "file": item.file, "effective": item.effective.model_dump(mode="json"),
                 "edit": item.edit.model_dump(mode="json")} for item in edits]
        json.dump({"as_of": args.as_of.isoformat(), "payer": payer, "state": state,
                   "edits": rows}, sys.stdout, indent=2)
        print()
        return EXIT_OK
    _print_edits(sys.stdout, args.as_of, payer, state, edits, engine)
    return EXIT_OK


def _print_edits(out: TextIO, day: dt.date, payer: Payer | None, state: str | None,
                 edits: list[SourcedEdit], engine: Engine) -> None:
    p = engine.provenance
    who = payer.value if payer else "all payers"
    print(f"{p.pack} {p.version}: edits in force on {day} for {who}"
          f"{', state ' + state if state else ''} ({len(edits)})", file=out)
    for item in edits:
        edit = item.edit
        payers = ",".join(edit.payers)
        print(f"  {edit.id:<40} {edit.kind:<22} {edit.decision.value:<7} "
              f"{edit.group_code}-{edit.carc} {' '.join(edit.rarcs):<5} {payers:<28} "
              f"{item.effective}  [{item.source}]", file=out)
