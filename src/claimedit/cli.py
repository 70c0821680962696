"""The ``claimedit`` command line.

    claimedit check FILE... [--format table|json|jsonl|fhir] [-o FILE] [--input-format F]
                    [--rules PACK]... [--overlay ST.yaml] [--payer-map FILE] [--validate]
                    [--progress|--no-progress]
    claimedit explain CODE[-MOD...] --date YYYY-MM-DD --payer P [--with CODE]... [--state ST]
    claimedit rules check [PACK] [--overlay ST.yaml]
    claimedit rules show [--as-of DATE] [--payer P] [--state ST] [--rules PACK]... [--json]
    claimedit rules list
    claimedit rules test [PACK...] [--overlay FILE] [-v]
    claimedit rules diff OLD NEW [--old-overlay FILE] [--new-overlay FILE] [--json]
    claimedit diff --old RULES... --new RULES... CLAIMS... [--format table|json] [--html FILE]
    claimedit history show --patient ID [--history PATH_OR_URL] [--json]
    claimedit history purge --before YYYY-MM-DD [--history PATH_OR_URL]

Every command and option, with defaults and an example: ``docs/cli.md``, generated from this
parser by ``python -m claimedit.cli_reference``. A new subcommand gives its example in the
``epilog`` of its parser (``example: claimedit ...``); the reference test fails without one.

Commands that load rules say which pack they use, on stderr
(``rules: igrt 2026.2.0 sha256:... from rules/igrt``), and note when the working directory holds
a pack of the same id that is not the one in use (after ``pip install .`` in a checkout, the
packaged copy is used unless ``--rules rules/igrt`` is given).

Exit status (ruff's and flake8's convention, one meaning each): 0 every record was decided; 1 some
input records were invalid or unreadable, each reported (every other record is still evaluated and
written); 2 a usage error, a broken rule pack, a missing extra, or an internal error.

Nothing one record does stops a run: a record that makes a reader or the engine fail
unexpectedly is that record's error (type ``internal_error``, naming the exception's type, never
its arguments) and the run goes on (status 1). Status 2 for an internal error means the run
itself failed (writing the output, say), never one record.
"""

from __future__ import annotations

import argparse
import array
import codecs
import datetime as dt
import functools
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

import yaml
from pydantic import ValidationError

from claimedit import __version__, impact, pack_diff, policy_tests, rules_list
from claimedit.adapters import MissingExtraError, PayerMap
from claimedit.claims import Payer, error_claim_id, issues_of, parse_claim
from claimedit.destination import SameFileError, output
from claimedit.engine import Engine, InvalidClaimError, load_engine
from claimedit.history import HistoryError
from claimedit.history import command as history_command
from claimedit.inputs import (
    FORMATS,
    HEAD_SIZE,
    Record,
    bounded_lines,
    detect_format,
    read_csv,
    read_json,
    read_jsonl,
    read_records,
)
from claimedit.limits import cap_reason, printable, quote
from claimedit.ncci import show as ncci_show
from claimedit.ncci.command import register as _register_ncci
from claimedit.outputs import WRITERS
from claimedit.pack import (
    RulePackError,
    SourcedEdit,
    load_pack,
    packaged_rules_path,
    resolve_pack,
)
from claimedit.progress import Progress, wanted
from claimedit.results import ClaimError, FieldIssue

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2
EXIT_STATUS = """exit status:
  0  every record was decided
  1  some input records were invalid or unreadable, each reported (the rest was processed;
     a record that failed unexpectedly is reported as internal_error)
  2  usage error, broken rule pack, missing extra, or an internal error of the run itself"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        # Whatever the terminal's encoding, a character it cannot show is escaped, not fatal.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
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
    except Exception as exc:  # (the run itself failed: status 2, no traceback)
        # The type only: an exception's arguments may hold a record's data.
        print(f"internal error: {type(exc).__name__}: a bug in claimedit {__version__}, please "
              "report it with the command that produced it", file=sys.stderr)
        return EXIT_ERROR


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default (when it has one worth showing) and keeps the
    ``example:`` lines of an epilog as written (other text is wrapped as usual)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        prose: list[str] = []
        for line in [*text.splitlines(), "example"]:
            # Examples and the exit-status table are laid out by hand: kept as written.
            if line.startswith(("example", "exit status", "  ")):
                if prose:
                    out.append(super()._fill_text(" ".join(prose), width, indent))
                    prose = []
                out.append(indent + line)
            else:
                prose.append(line)
        return "\n".join(out[:-1])

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if ("(default" in text or default is None or default is False or default == []
                or default is argparse.SUPPRESS
                or (not action.option_strings and action.nargs not in ("?", "*"))):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """Every parser and subparser (``add_subparsers`` makes subparsers of the parent's class)
    gets the help formatter above, so a new subcommand shows its defaults without asking."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _subcommands(
    parser: argparse.ArgumentParser, **kwargs: Any
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    # Typed as plain ArgumentParser subparsers so that a command module's register(commands)
    # takes them; at run time they are _Parser, with the help formatter above.
    return cast("argparse._SubParsersAction[argparse.ArgumentParser]",
                parser.add_subparsers(**kwargs))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="claimedit", description="Apply a reimbursement policy rule pack to claim lines.",
        epilog="example: claimedit check examples/claims.jsonl\n" + EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"claimedit {__version__}")
    commands = _subcommands(parser, dest="command", required=True)

    check = commands.add_parser(
        "check", help="evaluate claims from files or stdin",
        description="Evaluate every claim of the files (or stdin) and write a result per claim; "
                    "invalid records are reported on stderr, and the rest is still evaluated.",
        epilog="example: claimedit check examples/claims.jsonl --format jsonl\n"
               "example: claimedit check examples/claims.jsonl "
               "--overlay examples/states/XX.yaml\n" + EXIT_STATUS)
    check.add_argument("files", nargs="+", metavar="FILE",
                       help="JSON, JSON Lines, CSV, FHIR JSON or X12 837; - reads stdin")
    check.add_argument("--format", choices=sorted(WRITERS), default="table", help="output format")
    check.add_argument("--input-format", choices=sorted(FORMATS), default=None,
                       help="input format (default: by file extension, else by content)")
    check.add_argument("-o", "--output", metavar="FILE",
                       help="write the results to FILE, whole when the run ends (default: "
                            "stdout)")
    check.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="a progress line on stderr (default: when stderr is a terminal)")
    check.add_argument("--validate", action="store_true",
                       help="X12: also run pyx12's 5010 implementation-guide validation and "
                            "report its findings on the claims (needs the x12 extra; slow)")
    check.add_argument("--payer-map", metavar="FILE", type=_payer_map,
                       help="YAML: how X12 / FHIR payer information maps to payer types "
                            "(overrides of the defaults, see docs/interoperability.md)")
    history_command.add_history_option(check)
    _rules_options(check)
    check.set_defaults(run=_check)

    explain = commands.add_parser(
        "explain", help="evaluate one line and show every edit that fired",
        epilog="example: claimedit explain G6001-TC --date 2025-03-03 --payer commercial "
               "--with 77385")
    explain.add_argument("code", metavar="CODE",
                         help="procedure code, modifiers after dashes: G6001-TC, 77387-26")
    explain.add_argument("--date", required=True, type=_date, metavar="DATE",
                         help="date of service YYYY-MM-DD")
    explain.add_argument("--payer", required=True, metavar="PAYER",
                         help="payer type: medicare, medicaid or commercial")
    # One code per --with (repeat it, or separate codes with commas): a list-taking --with
    # swallowed the procedure code written after it (`explain --with 77385 G6001-TC`).
    explain.add_argument("--with", dest="same_day", action="append", default=[], metavar="CODE",
                         type=_codes,
                         help="a code billed on another line the same date of service "
                              "(repeatable; or several separated by commas)")
    explain.add_argument("--modifier", "-m", action="append", default=[], metavar="MOD",
                         help="a modifier (repeatable; or write them after the code: G6001-26)")
    explain.add_argument("--units", type=int, default=1, metavar="N",
                         help="units of service on the line (unit limits read them; each "
                              "--with line is one unit)")
    explain.add_argument("--state", metavar="ST",
                         help="two-letter state (selects state exceptions)")
    explain.add_argument("--claim-type", default="professional",
                         choices=["professional", "institutional"],
                         help="professional (837P, the default) or institutional (837I)")
    _rules_options(explain)
    explain.set_defaults(run=_explain)

    rules = commands.add_parser(
        "rules", help="validate or show a rule pack",
        epilog="example: claimedit rules check rules/igrt")
    rules_commands = _subcommands(rules, dest="rules_command", required=True)
    rules_check = rules_commands.add_parser(
        "check", help="validate a rule pack, list every problem",
        epilog="example: claimedit rules check rules/igrt --overlay examples/states/XX.yaml")
    rules_check.add_argument("path", nargs="?",
                             help="rule pack directory or packaged pack name "
                                  "(default: the packaged IGRT pack)")
    rules_check.add_argument("--overlay", action="append", default=[], metavar="FILE",
                             help="a state-exception file <ST>.yaml kept outside the pack")
    rules_check.set_defaults(run=_rules_check)
    show = rules_commands.add_parser(
        "show", help="print the edits in force",
        epilog="example: claimedit rules show --as-of 2026-02-01 --payer medicare")
    show.add_argument("--as-of", type=_date, default=None, metavar="DATE",
                      help="date of service YYYY-MM-DD (default: today)")
    show.add_argument("--payer", metavar="PAYER",
                      help="only edits for this payer type: medicare, medicaid or commercial")
    show.add_argument("--state", metavar="ST", help="apply this state's exceptions")
    show.add_argument("--code", metavar="CODE",
                      help="only the edits that watch this code, with the NCCI table rows "
                           "(pairs, MUE) in force for it")
    _rules_options(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_rules_show)
    policy_tests.register(rules_commands)
    pack_diff.register(rules_commands)
    rules_list.register(rules_commands)
    impact.register(commands, _records, _payer_map)
    _register_ncci(commands)
    history_command.register(commands)
    return parser


def _rules_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", action="append", metavar="PACK",
                        help="a packaged pack's name (claimedit rules list) or a pack directory; "
                             "repeat it to evaluate packs together "
                             "(default: the packaged IGRT pack)")
    parser.add_argument("--overlay", action="append", default=[], metavar="FILE",
                        help="a state-exception file <ST>.yaml kept outside the pack (repeatable)")


def _engine(args: argparse.Namespace) -> Engine:
    engine = load_engine(args.rules or None, overlays=args.overlay)
    given = " ".join(args.rules) if args.rules else None
    for pack in engine.packs:
        _say_rules(pack.meta.id, pack.root, given, pack.meta.version, pack.content_hash)
    return engine


def _say_rules(pack_id: str, root: str, given: str | None, version: str, content_hash: str
               ) -> None:
    """Name the pack in use on stderr, and point at a checkout's pack that is not the one used.

    After ``pip install .`` the packaged copy is used wherever the command runs; an analyst
    editing ``rules/igrt`` in the checkout would otherwise see the old rules without a word.
    """
    where = root if given is not None else f"{root} (default)"
    print(f"rules: {pack_id} {version} {content_hash} from {where}", file=sys.stderr)
    _note_checkout(pack_id, root, given, f"--rules {(Path('rules') / pack_id).as_posix()}")


def _note_checkout(pack_id: str, root: str, given: str | None, remedy: str) -> None:
    local = Path("rules") / pack_id
    if given is None and (local / "pack.yaml").is_file() \
            and local.resolve() != Path(root).resolve():
        print(f"note: {local.as_posix()}/ in this directory is not the pack in use "
              f"(the default pack is); to use it: {remedy}", file=sys.stderr)


def _codes(text: str) -> list[str]:
    return [code for code in (part.strip() for part in text.split(",")) if code]


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
    files: Sequence[str], fmt: str | None, payer_map: PayerMap | None = None,
    warn: Callable[[str], None] | None = None, *, validate: bool = False,
) -> Iterator[Record]:
    """Every record of every file, in order; a file that cannot be read is one error record, a
    reader that fails mid-file ends that file with one error record, and the next file is read.
    ``warn`` hears of files with no records (default: a ``warning:`` line on stderr)."""
    warn = warn or _warn_on_stderr
    for name in files:
        try:
            # Binary: JSON Lines records go to pydantic-core as bytes, undecoded (the fast path);
            # CSV is decoded a line at a time (one bad byte is one row's error); the adapters
            # read UTF-8 text.
            handle: io.BufferedReader = (
                # closed in the finally below (stdin stays open): no `with` around a generator
                sys.stdin.buffer if name == "-"
                else open(name, "rb")  # type: ignore[assignment]  # noqa: SIM115
            )
        except OSError as exc:
            yield _unreadable(name, 0, exc.strerror or str(exc))
            continue
        text: io.TextIOWrapper | None = None
        count = 0
        read_any = False
        chosen = fmt
        try:
            head = handle.peek(HEAD_SIZE)[:HEAD_SIZE]
            chosen = fmt or detect_format(name, _head(head))
            records: Iterator[Record]
            if chosen == "x12":  # bytes: the reader decodes them as the file declares
                from claimedit.adapters.x12 import read_x12_file

                records = read_x12_file(handle, name, payer_map, validate=validate)
            elif chosen == "jsonl":
                records = read_jsonl(bounded_lines(handle), name)
            elif chosen == "csv":
                records = read_csv(bounded_lines(handle), name)
            elif chosen == "json":
                records = read_json(iter(functools.partial(handle.read, 1 << 16), b""), name)
            else:
                # utf-8-sig: spreadsheet exports start with a byte-order mark.
                text = io.TextIOWrapper(handle, "utf-8-sig", newline="")
                records = read_records(text, name, chosen, payer_map)
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except (OSError, UnicodeDecodeError) as exc:
                    yield _unreadable(name, count + 1, str(exc))
                    break
                except MissingExtraError:
                    raise  # --validate without the x12 extra: a usage error (exit status 2)
                except Exception as exc:  # (a reader's bug must not end the run)
                    error = _internal(name, count + 1, None, exc, f"reading this {chosen} file; "
                                      "the rest of the file was not read")
                    yield Record(name, count + 1, error)
                    break
                # A file-level record is numbered 0 (an X12 envelope fault): it must not reset
                # the count that numbers a later error and says whether the file held anything.
                count = max(count, record.number)
                read_any = True
                yield record
        except OSError as exc:
            yield _unreadable(name, count + 1, str(exc))
            count += 1
            read_any = True
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()
            elif text is not None:
                # A collected wrapper closes its buffer: detached, stdin stays open for a
                # second "-" (which then reads nothing) instead of failing with ValueError.
                text.detach()
        if not read_any:
            what = "a CSV header and no rows" if chosen == "csv" and head.strip() else \
                "no records" if head.strip() else "an empty file"
            warn(f"{printable(name)}: {what}")


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {printable(message)}", file=sys.stderr)


def _head(data: bytes) -> str:
    """The head of a file as text for format detection: UTF-16 when it starts with its
    byte-order mark or reads ``I\\0S\\0A\\0`` (an X12 file), else UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data[: len(data) // 2 * 2].decode("utf-16", "replace")
    if data.startswith((b"I\x00S\x00A\x00", b"\x00I\x00S\x00A")):
        encoding = "utf-16-le" if data[0] else "utf-16-be"
        return data[: len(data) // 2 * 2].decode(encoding, "replace")
    return data.decode("utf-8", "replace")


def _unreadable(name: str, number: int, reason: str) -> Record:
    issue = FieldIssue("", f"cannot read: {cap_reason(reason)}", "unreadable")
    return Record(name, number, ClaimError(name, number, None, (issue,)))


def _internal(source: str, number: int, claim_id: Any, exc: Exception, stage: str) -> ClaimError:
    """An unexpected exception, as this record's error: its type only, never its arguments
    (they may hold the record's data)."""
    issue = FieldIssue("", f"internal error ({type(exc).__name__}) while {stage}: a bug in "
                       f"claimedit {__version__}, please report it", "internal_error")
    return ClaimError(source, number, error_claim_id(claim_id), (issue,))


def _check(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        with output(args.output, inputs=args.files) as out:
            return _check_to(args, engine, out)
    except SameFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _check_to(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    writer = WRITERS[args.format](out, sys.stderr)
    write, evaluate = writer.write, engine.evaluate
    duplicates = _DuplicateClaims(writer.warn)
    seen = duplicates.seen
    if args.history is not None:  # claim history: docs/history.md
        history_command.check_with_history(
            args.history, engine, writer,
            _records(args.files, args.input_format, args.payer_map, writer.warn,
                     validate=args.validate),
            duplicates, _internal)
        writer.close()
        return EXIT_INVALID if writer.summary.invalid else EXIT_OK
    progress = Progress(sys.stderr) if wanted(args.progress, sys.stderr) else None
    # One loop from record to output (no generator between the stages: it is the hot path).
    for record in _records(args.files, args.input_format, args.payer_map, writer.warn,
                           validate=args.validate):
        if progress is not None:
            progress.update(record.source, invalid=isinstance(record.data, ClaimError))
        item = record.data
        try:
            if not isinstance(item, ClaimError):
                item = parse_claim(item, source=record.source, record=record.number)
                if not isinstance(item, ClaimError):
                    item = evaluate(item)
                    if record.notes:  # lines the reader left out, said on the claim's result
                        item = item._replace(notes=record.notes)
            if item.claim_id is not None and not seen(item.claim_id) \
                    and not _split_claim(item):
                duplicates.report(record.source, record.number, item.claim_id)
            write(item)
        except Exception as exc:  # (one record's failure must not end the run)
            write(_internal(record.source, record.number, _claim_id(item), exc,
                            "deciding or writing this record"))
    if progress is not None:
        progress.close()
    writer.close()
    return EXIT_INVALID if writer.summary.invalid else EXIT_OK


def _claim_id(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("claim_id")
    return getattr(item, "claim_id", None)


class _DuplicateClaims:
    """Claim ids seen in this run, kept as 64-bit hashes in an open-addressing table (8 to 16
    bytes a claim, where a set of ids would take about 100): a million claims cost about 16 MB.
    A duplicate is a warning: a resubmission in the same batch is legitimate, a file read twice
    is not. Two different ids sharing a 64-bit hash is a chance of about 1 in 10^7 at a
    million claims; the cost would be one wrong warning, never a wrong decision."""

    _SHOWN = 100

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._table = array.array("q", bytes(8 * 1024))
        self._mask = 1023
        self._size = 0
        self._warn = warn
        self.count = 0

    def seen(self, claim_id: str) -> bool:
        """True the first time ``claim_id`` is seen (the name reads at the call site)."""
        key = hash(claim_id) or 1  # 0 marks an empty slot
        table, mask = self._table, self._mask
        slot = key & mask
        while True:
            held = table[slot]
            if held == key:
                return False
            if held == 0:
                table[slot] = key
                self._size += 1
                if self._size * 2 > mask:
                    self._grow()
                return True
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old = self._table
        self._mask = mask = len(old) * 2 - 1
        self._table = table = array.array("q", bytes(8 * (mask + 1)))
        for key in old:
            if key:
                slot = key & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = key

    def report(self, source: str, number: int, claim_id: str) -> None:
        self.count += 1
        if self.count <= self._SHOWN:
            self._warn(f"{printable(source)}: record {number}: claim id {quote(claim_id)} "
                       "was already seen in this run")
        elif self.count == self._SHOWN + 1:
            self._warn(f"more duplicate claim ids: only the first {self._SHOWN} are listed")


def _split_claim(item: Any) -> bool:
    """A CSV claim whose rows are not contiguous is already an error saying so."""
    return isinstance(item, ClaimError) and any(
        issue.type == "csv_rows_not_contiguous" for issue in item.issues)


def _explain(args: argparse.Namespace) -> int:
    engine = _engine(args)
    code, *modifiers = args.code.split("-")
    modifiers += args.modifier
    same_day = [code for codes in args.same_day for code in codes]
    try:
        result = engine.evaluate_line(
            {"code": code, "modifiers": modifiers, "date_of_service": args.date,
             "units": args.units},
            payer=args.payer, same_day_codes=same_day, state=args.state,
            claim_type=args.claim_type,
        )
    except InvalidClaimError as exc:
        print(f"error: {'; '.join(f'{i.field}: {i.reason}' for i in exc.error.issues)}",
              file=sys.stderr)
        return EXIT_ERROR
    billed = "-".join((result.code, *result.modifiers))
    if args.units != 1:
        billed += f" x {args.units} units"
    context = f", with {' '.join(same_day)} the same day" if same_day else ""
    state = f", state {args.state.upper()}" if args.state else ""
    if args.claim_type != "professional":  # the default goes unsaid, as in every other output
        state += f", {args.claim_type} claim"
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
    return EXIT_OK


def _rules_check(args: argparse.Namespace) -> int:
    path = resolve_pack(args.path) if args.path else packaged_rules_path()
    pack = load_pack(path, args.overlay)  # a RulePackError is printed with every problem by main()
    overlays = ", ".join(o.state for o in pack.overlays) or "none"
    where = path if args.path else f"{path} (default)"
    print(f"ok: {where}: {pack.meta.id} {pack.meta.version} {pack.content_hash} "
          f"(checked by claimedit {__version__})")
    print(f"  {len(pack.codes)} codes, {len(pack.edits)} edits in {len(pack.revisions)} revisions, "
          f"state overlays: {overlays}")
    for line in ncci_show.imported_summary(pack):
        print(f"  {line}")
    _note_checkout(pack.meta.id, str(path), args.path,
                   f"claimedit rules check {(Path('rules') / pack.meta.id).as_posix()}")
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
    as_of = args.as_of or dt.date.today()
    edits = engine.edits_in_force(as_of, payer=payer, state=state)
    code = args.code.strip().upper() if args.code else None
    if code is not None:
        edits = ncci_show.watching(engine, edits, code, as_of)
    if args.json:
        rows: list[dict[str, Any]] = [
            {"id": item.edit.id, "kind": item.edit.kind, "source": item.source,
             "file": item.file, "effective": item.effective.model_dump(mode="json"),
             "edit": item.edit.model_dump(mode="json")} for item in edits]
        if code is not None:
            for row, item in zip(rows, edits, strict=True):
                row["table_rows"] = ncci_show.table_rows(item, code, as_of)
        json.dump({"as_of": as_of.isoformat(), "payer": payer, "state": state,
                   "code": code, "edits": rows}, sys.stdout, indent=2)
        print()
        return EXIT_OK
    _print_edits(sys.stdout, as_of, payer, state, edits, engine, code)
    return EXIT_OK


def _print_edits(out: TextIO, day: dt.date, payer: Payer | None, state: str | None,
                 edits: list[SourcedEdit], engine: Engine, code: str | None = None) -> None:
    p = engine.provenance
    who = payer.value if payer else "all payers"
    watching = f" watching {code}" if code else ""
    print(f"{p.pack} {p.version}: edits in force on {day} for {who}"
          f"{', state ' + state if state else ''}{watching} ({len(edits)})", file=out)
    for item in edits:
        edit = item.edit
        payers = ",".join(edit.payers)
        if len(edit.claim_types) == 1:  # scoped to one claim type: say which
            payers += f" ({edit.claim_types[0].value})"
        print(f"  {edit.id:<40} {edit.kind:<22} {edit.decision.value:<7} "
              f"{edit.group_code}-{edit.carc} {' '.join(edit.rarcs):<5} {payers:<28} "
              f"{item.effective}  [{item.source}]", file=out)
        if code is not None:
            for line in ncci_show.describe_rows(ncci_show.table_rows(item, code, day), code):
                print(f"      {line}", file=out)
