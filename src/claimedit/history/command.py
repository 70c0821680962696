"""The command line's claim history: ``claimedit check FILE --history PATH_OR_URL`` and
``claimedit history show|purge``.

    claimedit check FILE... --history PATH_OR_URL
    claimedit history show --patient ID [--history PATH_OR_URL] [--json]
    claimedit history purge --before YYYY-MM-DD [--history PATH_OR_URL]

``--history`` defaults to the environment variable ``CLAIMEDIT_HISTORY``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from claimedit.claims import Claim, parse_claim
from claimedit.engine import Engine
from claimedit.history import open_history
from claimedit.history.judge import judge_stream
from claimedit.inputs import Record
from claimedit.outputs import Writer
from claimedit.results import ClaimError, ClaimResult

__all__ = ["add_history_option", "check_with_history", "register"]

ENVIRONMENT = "CLAIMEDIT_HISTORY"


def add_history_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``--history PATH_OR_URL`` (default ``$CLAIMEDIT_HISTORY``)."""
    default = os.environ.get(ENVIRONMENT) or None
    parser.add_argument(
        "--history", metavar="PATH_OR_URL", default=default,
        required=required and default is None,
        help="claim history: a SQLite file (created when missing) or a postgresql:// URL; "
             f"default ${ENVIRONMENT}. Earlier claims of the same patient, provider and date "
             "of service count as billed that day (docs/history.md)",
    )


def register(commands: Any) -> None:
    """Add ``history show`` and ``history purge`` to the CLI's subcommands."""
    history = commands.add_parser(
        "history", help="show or purge the stored claim history (docs/history.md)",
        epilog="example (illustrative): claimedit history show --patient MBR-0001 --history "
               "history.sqlite")
    actions = history.add_subparsers(dest="history_command", required=True)
    show = actions.add_parser(
        "show", help="list a patient's stored claims and lines",
        epilog="example (illustrative): claimedit history show --patient MBR-0001 --history "
               "history.sqlite")
    show.add_argument("--patient", required=True, metavar="ID", help="the patient id")
    add_history_option(show, required=True)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_show)
    purge = actions.add_parser(
        "purge", help="remove claims whose every date of service is before a date (retention)",
        epilog="example (illustrative): claimedit history purge --before 2024-07-01 "
               "--history history.sqlite")
    purge.add_argument("--before", required=True, type=_date,
                       metavar="YYYY-MM-DD", help="keep claims with a date of service on or after")
    add_history_option(purge, required=True)
    purge.set_defaults(run=_purge)


class _Duplicates(Protocol):
    """The check loop's record of claim ids seen in the run (``cli._DuplicateClaims``)."""

    def seen(self, claim_id: str) -> bool: ...

    def report(self, source: str, number: int, claim_id: str) -> None: ...


_Internal = Callable[[str, int, Any, Exception, str], ClaimError]


def check_with_history(
    location: str, engine: Engine, writer: Writer, records: Iterable[Record],
    duplicates: _Duplicates, internal: _Internal,
) -> None:
    """The ``check`` loop with a history store: each record's claim is judged with the claims
    recorded before it (in this run and earlier ones), a batch of claims per transaction.

    As the plain loop: every record is a result or an error, a record that fails unexpectedly
    is its own error (its batch is judged again one claim at a time), and a claim id seen twice
    is warned about, unless the second is a replacement or a void of the first.
    """
    where: dict[int, Record] = {}  # position in the stream -> its record, until written
    store = open_history(location)
    batch = store.batch_claims  # claims a transaction, as suits the store

    def claims() -> Iterator[Claim | ClaimError]:
        for position, record in enumerate(records):
            if position and not position % batch:
                _collect()  # the previous batch is written and freed (_batch_collector)
            item = record.data
            try:
                if not isinstance(item, ClaimError):
                    item = parse_claim(item, source=record.source, record=record.number)
            except Exception as exc:  # (one record's failure must not end the run)
                item = internal(record.source, record.number, None, exc, "reading this record")
            if item.claim_id is not None and not duplicates.seen(item.claim_id) \
                    and not _resend(item) and not _split_claim(item):
                duplicates.report(record.source, record.number, item.claim_id)
            where[position] = record
            yield item

    def again(position: int) -> Claim:
        # A claim let go once judged, for its batch judged again: its record parsed again
        # (the same data, the same claim).
        record = where[position]
        claim = parse_claim(record.data, source=record.source, record=record.number)
        assert isinstance(claim, Claim)  # it was one when first read
        return claim

    def failed(position: int, claim: Claim, exc: Exception) -> ClaimError:
        record = where[position]
        return internal(record.source, record.number, claim.claim_id, exc, "deciding this record")

    try:
        with _batch_collector():
            for position, item in enumerate(
                    judge_stream(engine, store, claims(), batch, failed, again)):
                record = where.pop(position)
                if record.notes and isinstance(item, ClaimResult):
                    item = item._replace(notes=record.notes)  # as the plain loop does
                writer.write(item)
    finally:
        store.close()


@contextlib.contextmanager
def _batch_collector() -> Iterator[None]:
    """Python's cycle collector run once a batch instead of by allocation counts, for the
    command's duration (the command owns the process; the setting is restored after).

    A batch keeps its claims and results alive (8,192 with SQLite), a few hundred thousand
    objects, and the collector, counting allocations, walks them again and again while they
    live, and at each
    full collection the engine and its packs as well: about a tenth of the run's CPU time
    (docs/performance.md). Here the objects alive at the start (engine, packs, modules) are
    moved out of its way (``gc.freeze``), automatic collection is off, and :func:`_collect`
    runs between batches, when the last batch is freed and little is alive: cyclic garbage is
    still collected, once a batch, and memory stays bounded."""
    enabled = gc.isenabled()
    freeze = gc.get_freeze_count() == 0  # a caller's own freeze is left alone
    if freeze:
        gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.unfreeze()


def _collect() -> None:
    gc.collect()


def _resend(item: Claim | ClaimError) -> bool:
    """A replacement or void carries the id of the claim it replaces: not a duplicate."""
    return isinstance(item, Claim) and item.frequency_code in ("7", "8")


def _split_claim(item: Claim | ClaimError) -> bool:
    """A CSV claim whose rows are not contiguous is already an error saying so."""
    return isinstance(item, ClaimError) and any(
        issue.type == "csv_rows_not_contiguous" for issue in item.issues)


def _show(args: argparse.Namespace) -> int:
    store = open_history(args.history, create=False)
    try:
        claims = store.claims_of(args.patient)
    finally:
        store.close()
    if args.json:
        json.dump({"patient_id": args.patient, "claims": [
            {"provider_id": claim.provider_id, "claim_id": claim.claim_id,
             "frequency_code": claim.frequency_code, "payer": claim.payer, "state": claim.state,
             "claim_type": claim.claim_type,
             "lines": [{"line_id": line.line_id, "code": line.code,
                        "modifiers": list(line.modifiers), "units": line.units,
                        "date_of_service": line.date_of_service.isoformat(),
                        "decision": line.decision.value, "rule_ids": list(line.reason_ids)}
                       for line in claim.lines]}
            for claim in claims]}, sys.stdout, indent=2)
        print()
        return 0
    print(f"patient {args.patient}: {len(claims)} stored claim{'' if len(claims) == 1 else 's'}")
    for claim in claims:
        state = f", {claim.state}" if claim.state else ""
        print(f"  provider {claim.provider_id} claim {claim.claim_id} (frequency "
              f"{claim.frequency_code}, {claim.payer}{state}, {claim.claim_type})")
        for line in claim.lines:
            billed = "-".join((line.code, *line.modifiers))
            rules = " ".join(line.reason_ids)
            print(f"    line {line.line_id:<4} {billed:<14} x{line.units:<3} "
                  f"{line.date_of_service}  {line.decision.value:<6} {rules}".rstrip())
    return 0


def _purge(args: argparse.Namespace) -> int:
    store = open_history(args.history, create=False)
    try:
        removed = store.purge(args.before)
    finally:
        store.close()
    print(f"removed {removed} claims whose every date of service is before {args.before}")
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
