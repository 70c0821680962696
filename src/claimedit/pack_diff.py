"""What changed between two rule packs, in words a policy analyst reads.

``claimedit rules diff OLD NEW`` loads both packs (every problem of either is reported, as by
``rules check``) and lists, section by section: the pack's metadata; codes added, removed, or
moved (new dates) or otherwise changed in the code table; revisions added, removed or re-dated;
edits added, removed, and changed, naming each changed field (codes added to or removed from a
code set, payer types added or removed, dates moved, a new CARC, a reworded message); and the
same for state overlays; the pack's table files (``tables/``: NCCI pairs and MUE limits, row
by row); and the pack's case files (``tests/``): cases added, removed, or whose
claim or expectations changed. Fields are compared generically from the validated models, so a new
edit kind or field is covered without a change here.

Example:
    >>> from claimedit.pack import load_pack, packaged_rules_path
    >>> pack = load_pack(packaged_rules_path())
    >>> diff_packs(pack, pack)
    []
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from claimedit.pack import RulePack, RulePackError, SourcedEdit, load_pack, resolve_pack
from claimedit.pack.models import DateRange
from claimedit.policy_tests import Expectation, PolicyCase, load_cases

__all__ = ["Change", "diff_cases", "diff_packs", "diff_tables", "register", "write_changes"]


@dataclass(frozen=True)
class Change:
    """One thing that changed: where, what, and the details in words."""

    section: str
    """``pack``, ``codes``, ``revisions``, ``edits`` or ``state <ST>``."""
    subject: str
    """The code, revision id or edit id (with the revision it is written in)."""
    change: str
    """``added``, ``removed`` or ``changed``."""
    details: tuple[str, ...]
    """Sentences: what the subject is (added / removed) or what changed in it, field by field."""
    fields: tuple[str, ...] = ()
    """The dotted names of the changed fields (``changed`` only), e.g. ``column2.codes``."""

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "subject": self.subject, "change": self.change,
                "fields": list(self.fields), "details": list(self.details)}


def diff_packs(old: RulePack, new: RulePack) -> list[Change]:
    """Every change from ``old`` to ``new``, section by section (see the module).

    Example:
        >>> from claimedit.pack import load_pack, packaged_rules_path
        >>> import dataclasses
        >>> pack = load_pack(packaged_rules_path())
        >>> bumped = dataclasses.replace(pack, meta=pack.meta.model_copy(update={"version": "9"}))
        >>> [c.details for c in diff_packs(pack, bumped)]
        [('version: 2026.2.0 -> 9',)]
    """
    changes: list[Change] = []
    details = _field_changes(old.meta.model_dump(mode="json"), new.meta.model_dump(mode="json"))
    if details:
        changes.append(Change("pack", new.meta.id, "changed", tuple(d for _, d in details),
                              tuple(f for f, _ in details)))
    changes += _codes(old, new)
    changes += _keyed("revisions", {r.id: r.model_dump(mode="json") for r in old.revisions},
                      {r.id: r.model_dump(mode="json") for r in new.revisions}, _describe_revision)
    changes += _edits("edits", old.edits, new.edits)
    old_states = {overlay.state: overlay for overlay in old.overlays}
    new_states = {overlay.state: overlay for overlay in new.overlays}
    for state in sorted(old_states.keys() | new_states.keys()):
        section = f"state {state}"
        before, after = old_states.get(state), new_states.get(state)
        if before is None or after is None:
            overlay = after or before
            assert overlay is not None
            edits = ", ".join(item.edit.id for item in overlay.edits) or "none"
            disabled = ", ".join(overlay.model.disable) or "none"
            changes.append(Change(section, overlay.file, "added" if before is None else "removed",
                                  (f"in force {overlay.model.effective}; switches off "
                                   f"{disabled}; replaces or adds {edits}",)))
            continue
        header = _field_changes(
            before.model.model_dump(mode="json", include={"effective", "disable"}),
            after.model.model_dump(mode="json", include={"effective", "disable"}))
        if header:
            changes.append(Change(section, after.file, "changed", tuple(d for _, d in header),
                                  tuple(f for f, _ in header)))
        changes += _edits(section, before.edits, after.edits)
    return changes


# -- codes -------------------------------------------------------------------------------------


def _codes(old: RulePack, new: RulePack) -> list[Change]:
    def versions(pack: RulePack) -> dict[str, list[dict[str, Any]]]:
        table: dict[str, list[dict[str, Any]]] = {}
        for entry in pack.codes:
            table.setdefault(entry.code, []).append(entry.model_dump(mode="json"))
        return table

    before, after = versions(old), versions(new)
    users = _code_users(old, new)
    changes = []
    for code in sorted(before.keys() | after.keys()):
        was, now = before.get(code, []), after.get(code, [])
        if not was or not now:
            entries = now or was
            changes.append(Change("codes", code, "removed" if not now else "added",
                                  tuple(_describe_code(entry) for entry in entries)
                                  + _used_by(users, code, entries)))
        elif len(was) == 1 and len(now) == 1:
            details = _field_changes(was[0], now[0])
            if details:
                changes.append(Change("codes", code, "changed", tuple(d for _, d in details)
                                      + _used_by(users, code, was + now),
                                      tuple(f for f, _ in details)))
        elif was != now:
            gone = [entry for entry in was if entry not in now]
            came = [entry for entry in now if entry not in was]
            changes.append(Change("codes", code, "changed", tuple(
                [f"version removed: {_describe_code(entry)}" for entry in gone]
                + [f"version added: {_describe_code(entry)}" for entry in came]),
                ("versions",)))
    return changes


def _code_users(*packs: RulePack) -> dict[str, set[str]]:
    """Code or ``category:<name>`` -> the ids of the edits (of either pack) whose code sets
    name it, so that a code change says which edits it reaches."""
    users: dict[str, set[str]] = {}

    def walk(value: Any, rule_id: str) -> None:
        if isinstance(value, Mapping):
            if set(value) == {"codes", "categories"}:
                for code in value["codes"]:
                    users.setdefault(code, set()).add(rule_id)
                for category in value["categories"]:
                    users.setdefault(f"category:{category}", set()).add(rule_id)
            for item in value.values():
                walk(item, rule_id)
        elif isinstance(value, list):
            for item in value:
                walk(item, rule_id)

    for pack in packs:
        edits = list(pack.edits) + [item for overlay in pack.overlays for item in overlay.edits]
        for item in edits:
            walk(item.edit.model_dump(mode="json"), item.edit.id)
    return users


def _used_by(users: Mapping[str, set[str]], code: str,
             entries: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    names = set(users.get(code, ()))
    for entry in entries:
        names |= users.get(f"category:{entry.get('category')}", set())
    return (f"named by the edits {', '.join(sorted(names))}",) if names else ()


def _describe_code(entry: Mapping[str, Any]) -> str:
    parts = "".join(f", {name} {'yes' if entry[key] else 'no'}"
                    for name, key in (("26", "modifier_26"), ("TC", "modifier_tc")) if key in entry)
    return (f"{entry.get('label', '')} ({entry.get('category', '')}{parts}), in force "
            f"{_dates(entry.get('effective'))}").strip()


def _describe_revision(data: Mapping[str, Any]) -> str:
    return f"{data.get('title', '')}, in force {_dates(data.get('effective'))}"


# -- edits -------------------------------------------------------------------------------------


def _edit_data(item: SourcedEdit) -> dict[str, Any]:
    data = item.edit.model_dump(mode="json")
    # The dates in force as resolved (the edit's own, else its revision's): what an analyst
    # means by "when does this apply", whichever file holds them.
    data["effective"] = item.effective.model_dump(mode="json")
    return data


def _edits(section: str, old: Sequence[SourcedEdit], new: Sequence[SourcedEdit]
           ) -> list[Change]:
    before = {(item.edit.id, item.source): item for item in old}
    after = {(item.edit.id, item.source): item for item in new}
    # An edit whose revision was renamed (or that moved to another file) is one edit changed,
    # not one removed and one added: match what is left by id when that is unambiguous.
    lone_old = [key for key in before if key not in after]
    lone_new = [key for key in after if key not in before]
    moved: dict[tuple[str, str], tuple[str, str]] = {}
    for key in lone_old:
        same = [other for other in lone_new if other[0] == key[0]]
        if len(same) == 1 and sum(k[0] == key[0] for k in lone_old) == 1:
            moved[key] = same[0]
    changes = []
    for key in sorted(before.keys() | after.keys()):
        rule_id, source = key
        if key in before and key in after:
            pair = (before[key], after[key])
        elif key in moved:
            pair = (before[key], after[moved[key]])
        elif key in after and key in moved.values():
            continue  # reported with the old key
        else:
            item = after.get(key) or before[key]
            changes.append(Change(section, f"{rule_id} ({source})",
                                  "added" if key in after else "removed",
                                  (_describe_edit(item),)))
            continue
        was, now = pair
        details = _field_changes(_edit_data(was), _edit_data(now))
        if was.source != now.source:
            details.insert(0, ("source", f"moved from revision {was.source} to {now.source}"))
        if details:
            changes.append(Change(section, f"{rule_id} ({now.source})", "changed",
                                  tuple(d for _, d in details), tuple(f for f, _ in details)))
    return changes


def _describe_edit(item: SourcedEdit) -> str:
    edit = item.edit
    rarcs = " ".join(edit.rarcs)
    payers = ", ".join(payer.value for payer in edit.payers)
    return (f"{edit.kind}: {edit.decision.value} {edit.group_code}-{edit.carc}"
            f"{' ' + rarcs if rarcs else ''} for {payers}, in force {item.effective}, "
            f"in {item.file}")


# -- table files (NCCI tables of table-backed edits) ---------------------------------------------

_TABLE_EXAMPLES = 10


def diff_tables(old_root: str | Path, new_root: str | Path) -> list[Change]:
    """The pack's table files (``tables/``): files added or removed; for a changed PTP table the
    pairs added, removed or changed (dates, indicator, rationale), for an MUE table the codes
    whose limit changed, each with the first few examples; other files by size only.

    PTP tables are compared row by row in their stored order (column 2, column 1, dates), two
    million rows in flat memory.
    """
    def files(root: str | Path) -> dict[str, Path]:
        folder = Path(root) / "tables"
        return {} if not folder.is_dir() else {
            path.relative_to(root).as_posix(): path for path in sorted(folder.rglob("*"))
            if path.is_file()}

    before, after = files(old_root), files(new_root)
    changes = []
    for name in sorted(before.keys() | after.keys()):
        if name not in before or name not in after:
            path = after.get(name) or before[name]
            changes.append(Change("tables", name, "added" if name in after else "removed",
                                  (_describe_table(path),)))
        elif before[name].read_bytes() != after[name].read_bytes():
            changes.append(Change("tables", name, "changed",
                                  _table_changes(before[name], after[name])))
    return changes


def _describe_table(path: Path) -> str:
    from claimedit.ncci.table import MueTable, PtpTable, TableFileError

    for kind, opener in (("procedure-to-procedure pairs", PtpTable.open),
                         ("MUE limits", MueTable.open)):
        try:
            return f"{len(opener(path)):,} rows of {kind}"
        except (TableFileError, ValueError, OSError):
            continue
    return f"{path.stat().st_size:,} bytes"


def _table_changes(old: Path, new: Path) -> tuple[str, ...]:
    from claimedit.ncci.table import MueTable, PtpTable, TableFileError

    try:
        return _ptp_changes(PtpTable.open(old), PtpTable.open(new))
    except (TableFileError, ValueError, OSError):
        pass
    try:
        return _mue_changes(MueTable.open(old), MueTable.open(new))
    except (TableFileError, ValueError, OSError):
        pass
    return (f"bytes differ ({old.stat().st_size:,} -> {new.stat().st_size:,} bytes)",)


def _pair_key(row: Any) -> tuple[Any, ...]:
    from claimedit.ncci.table import NO_DELETION, code_number, date_number

    return (code_number(row.column2), code_number(row.column1), date_number(row.effective),
            NO_DELETION if row.deletion is None else date_number(row.deletion),
            row.modifier_indicator, row.pre_1996, row.rationale)


def _pair_groups(table: Any) -> Iterable[tuple[tuple[int, int], list[Any]]]:
    """The table's rows grouped by pair (column 2, column 1), in stored order; raises
    ValueError if the stored order is not the expected one (then only bytes are compared)."""
    group: list[Any] = []
    key: tuple[int, int] | None = None
    last: tuple[Any, ...] | None = None
    for row in table:
        full = _pair_key(row)
        if last is not None and full < last:
            raise ValueError("the table's rows are not in pair order")
        last = full
        pair = (full[0], full[1])
        if pair != key and group:
            assert key is not None
            yield key, group
            group = []
        key = pair
        group.append(row)
    if group and key is not None:
        yield key, group


def _row_words(row: Any) -> str:
    end = "" if row.deletion is None else str(row.deletion)
    return (f"{row.column1}/{row.column2} in force {row.effective}..{end}, indicator "
            f"{row.modifier_indicator}")


def _ptp_changes(old: Any, new: Any) -> tuple[str, ...]:
    counts = {"added": 0, "removed": 0, "changed": 0}
    examples: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}

    def note(kind: str, words: str) -> None:
        counts[kind] += 1
        if len(examples[kind]) < _TABLE_EXAMPLES:
            examples[kind].append(words)

    old_groups, new_groups = iter(_pair_groups(old)), iter(_pair_groups(new))
    was, now = next(old_groups, None), next(new_groups, None)
    while was is not None or now is not None:
        if now is None or (was is not None and was[0] < now[0]):
            assert was is not None
            note("removed", "; ".join(_row_words(row) for row in was[1]))
            was = next(old_groups, None)
        elif was is None or now[0] < was[0]:
            note("added", "; ".join(_row_words(row) for row in now[1]))
            now = next(new_groups, None)
        else:
            if [_pair_key(r) for r in was[1]] != [_pair_key(r) for r in now[1]]:
                note("changed", f"{'; '.join(_row_words(r) for r in was[1])} -> "
                                f"{'; '.join(_row_words(r) for r in now[1])}")
            was, now = next(old_groups, None), next(new_groups, None)
    details = [f"pairs: {counts['added']:,} added, {counts['removed']:,} removed, "
               f"{counts['changed']:,} changed (rows {len(old):,} -> {len(new):,})"]
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for kind in ("added", "removed", "changed"):
        details += [f"{marks[kind]} {words}" for words in examples[kind]]
        if counts[kind] > len(examples[kind]):
            details.append(f"  ... {counts[kind] - len(examples[kind]):,} more {kind}")
    return tuple(details)


def _mue_changes(old: Any, new: Any) -> tuple[str, ...]:
    before = {limit.code: limit for limit in old}
    after = {limit.code: limit for limit in new}
    words = []
    for code in sorted(before.keys() | after.keys()):
        was, now = before.get(code), after.get(code)
        if was == now:
            continue
        if was is None:
            assert now is not None
            words.append(f"+ {code}: {now.units} units (adjudication indicator "
                         f"{now.adjudication_indicator})")
        elif now is None:
            words.append(f"- {code}: was {was.units} units")
        else:
            words.append(f"~ {code}: {was.units} -> {now.units} units, adjudication indicator "
                         f"{was.adjudication_indicator} -> {now.adjudication_indicator}"
                         if was.units != now.units or
                         was.adjudication_indicator != now.adjudication_indicator
                         else f"~ {code}: rationale reworded")
    shown = words[:_TABLE_EXAMPLES]
    more = [f"  ... {len(words) - len(shown):,} more"] if len(words) > len(shown) else []
    return (f"codes: {len(words):,} limits added, removed or changed "
            f"(codes {len(before):,} -> {len(after):,})", *shown, *more)


# -- the pack's policy tests --------------------------------------------------------------------


def diff_cases(old: Sequence[PolicyCase], new: Sequence[PolicyCase]) -> list[Change]:
    """Cases added, removed, or whose claim or expectations changed (section ``tests``): the
    reviewer of a policy change sees the expectations that moved with it.

    Example:
        >>> from claimedit.pack import packaged_rules_path
        >>> cases = load_cases(packaged_rules_path())
        >>> diff_cases(cases, cases)
        []
    """
    before = {(case.file, case.name): case for case in old}
    after = {(case.file, case.name): case for case in new}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        file, name = key
        subject = f"{file} {name}"
        if key not in before or key not in after:
            case = after.get(key) or before[key]
            changes.append(Change("tests", subject, "added" if key in after else "removed",
                                  (_describe_case(case),)))
            continue
        was, now = before[key], after[key]
        details = []
        if _claim_text(was) != _claim_text(now):
            details.append(f"claim: {_claim_text(was)} -> {_claim_text(now)}")
        expected_was = {e.position: e for e in was.expectations}
        expected_now = {e.position: e for e in now.expectations}
        for position in sorted(expected_was.keys() | expected_now.keys()):
            words = _expectation_change(expected_was.get(position), expected_now.get(position))
            if words:
                billed = now.claim.lines[position] if position < len(now.claim.lines) else None
                code = "" if billed is None else \
                    f" ({'-'.join((billed.code, *billed.modifiers))})"
                details.append(f"line {position + 1}{code}: {words}")
        if details:
            changes.append(Change("tests", subject, "changed", tuple(details)))
    return changes


def _claim_text(case: PolicyCase) -> str:
    claim = case.claim
    lines = ", ".join("-".join((line.code, *line.modifiers)) + f" {line.date_of_service}"
                      for line in claim.lines)
    state = f" {claim.state}" if claim.state else ""
    return f"{claim.payer.value}{state}: {lines}"


def _expectation_text(expected: Expectation) -> str:
    words = [expected.decision.value]
    if expected.fires is not None:
        words.append("fires" if expected.fires else "does not fire")
    if expected.rule_ids is not None:
        words.append(f"rule ids [{', '.join(sorted(expected.rule_ids))}]")
    if expected.source is not None:
        words.append(f"source {expected.source}")
    return ", ".join(words)


def _expectation_change(was: Expectation | None, now: Expectation | None) -> str:
    if was is None and now is not None:
        return f"now expected {_expectation_text(now)}"
    if now is None and was is not None:
        return f"no longer checked (was {_expectation_text(was)})"
    if was is None or now is None or _expectation_text(was) == _expectation_text(now):
        return ""
    return f"expected {_expectation_text(was)} -> {_expectation_text(now)}"


def _describe_case(case: PolicyCase) -> str:
    return (f"{_claim_text(case)}; " + "; ".join(
        f"line {e.position + 1} expected {_expectation_text(e)}" for e in case.expectations))


def _cases_or_note(pack: RulePack) -> tuple[list[PolicyCase] | None, str | None]:
    try:
        return load_cases(pack.root), None
    except RulePackError as exc:
        return None, f"{len(exc.problems)} problems in {pack.root}/tests (run claimedit rules test)"


# -- generic field comparison --------------------------------------------------------------------


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = ""
                   ) -> list[tuple[str, str]]:
    """(field, sentence) for every field that differs, descending into mappings."""
    out: list[tuple[str, str]] = []
    for key in list(old) + [key for key in new if key not in old]:
        name = f"{prefix}{key}"
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        if _is_dates(was) or _is_dates(now):
            label = "in force" if key == "effective" else f"{name}:"
            out.append((name, f"{label} {_dates(was)} -> {_dates(now)}{_date_words(was, now)}"))
        elif isinstance(was, Mapping) and isinstance(now, Mapping):
            out += _field_changes(was, now, f"{name}.")
        elif isinstance(was, list) and isinstance(now, list) and \
                all(isinstance(v, str) for v in was + now):
            added = [v for v in now if v not in was]
            removed = [v for v in was if v not in now]
            words = [f"added {', '.join(added)}"] if added else []
            words += [f"removed {', '.join(removed)}"] if removed else []
            out.append((name, f"{name}: {'; '.join(words) or 'reordered'}"))
        elif isinstance(was, str) and isinstance(now, str) and max(len(was), len(now)) > 60:
            out.append((name, f"{name} reworded: {_short(was)!r} -> {_short(now)!r}"))
        else:
            out.append((name, f"{name}: {_value(was)} -> {_value(now)}"))
    return out


def _is_dates(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"start", "end"}


def _dates(value: Any) -> str:
    if not _is_dates(value):
        return "always" if value is None else str(value)
    return str(DateRange.model_validate(value))


def _date_words(was: Any, now: Any) -> str:
    if not (_is_dates(was) and _is_dates(now)):
        return ""
    words = []
    for edge, verb in (("start", "starts"), ("end", "ends")):
        if was[edge] != now[edge]:
            words.append(f"{verb} {now[edge]}" if now[edge] else
                         ("no longer has a start date" if edge == "start" else "no longer ends"))
    return f" (now {', '.join(words)})" if words else ""


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(map(_value, value)) + "]"
    return json.dumps(value) if isinstance(value, Mapping) else str(value)


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _keyed(section: str, old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]],
           describe: Callable[[Mapping[str, Any]], str]) -> list[Change]:
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old or key not in new:
            changes.append(Change(section, key, "added" if key in new else "removed",
                                  (describe(new.get(key) or old[key]),)))
            continue
        details = _field_changes(old[key], new[key])
        if details:
            changes.append(Change(section, key, "changed", tuple(d for _, d in details),
                                  tuple(f for f, _ in details)))
    return changes


# -- the command: claimedit rules diff -----------------------------------------------------------

_MARKS = {"added": "+", "removed": "-", "changed": "~"}


def write_changes(old: RulePack, new: RulePack, changes: Iterable[Change], out: TextIO) -> None:
    """The changes as text: one block per section, ``+`` added, ``-`` removed, ``~`` changed."""
    print(f"rules diff {old.meta.id} {old.meta.version} ({old.content_hash[:19]}) -> "
          f"{new.meta.id} {new.meta.version} ({new.content_hash[:19]})", file=out)
    changes = list(changes)
    section = None
    for change in changes:
        if change.section != section:
            section = change.section
            print(f"\n{section}:", file=out)
        mark = _MARKS[change.change]
        if change.change == "changed" and len(change.details) > 1:
            print(f"  {mark} {change.subject}", file=out)
            for detail in change.details:
                print(f"      {detail}", file=out)
        else:
            print(f"  {mark} {change.subject}: {'; '.join(change.details)}", file=out)
    counts: dict[str, dict[str, int]] = {}
    for change in changes:
        by_kind = counts.setdefault(change.section, {})
        by_kind[change.change] = by_kind.get(change.change, 0) + 1
    summary = "; ".join(
        f"{section} " + ", ".join(f"{n} {kind}" for kind, n in by_kind.items())
        for section, by_kind in counts.items()) or "no change"
    print(f"\nsummary: {summary}", file=out)
    for warning in version_warnings(old, new):
        print(f"warning: {warning}", file=out)


def version_warnings(old: RulePack, new: RulePack) -> list[str]:
    """What a reviewer must hear about the two packs' identities: content that changed under
    the same version (results stamped by either would name the same version).

    Example:
        >>> from claimedit.pack import load_pack, packaged_rules_path
        >>> pack = load_pack(packaged_rules_path())
        >>> version_warnings(pack, pack)
        []
    """
    if old.meta.id == new.meta.id and old.meta.version == new.meta.version \
            and old.content_hash != new.content_hash:
        return [f"the content changed but the version did not ({new.meta.id} "
                f"{new.meta.version}): bump it in pack.yaml, so that results name the pack "
                "that decided them"]
    return []


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``claimedit rules diff`` to the ``rules`` subcommands."""
    diff = commands.add_parser(
        "diff", help="what changed between two rule packs: edits, fields, codes, dates",
        description="Compare two rule packs (directories or packaged pack names). Exit 0 "
                    "(changes or not); 2 when either pack is broken.",
        epilog="example: claimedit rules diff igrt rules/igrt\n"
               "example (illustrative): claimedit rules diff igrt my-igrt-copy --json")
    diff.add_argument("old", metavar="OLD", help="the pack in force")
    diff.add_argument("new", metavar="NEW", help="the changed pack")
    diff.add_argument("--old-overlay", action="append", default=[], metavar="FILE",
                      help="a state-exception file applied to OLD (repeatable)")
    diff.add_argument("--new-overlay", action="append", default=[], metavar="FILE",
                      help="a state-exception file applied to NEW (repeatable)")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(run=_command)


def _command(args: argparse.Namespace) -> int:
    old = load_pack(resolve_pack(args.old), [Path(p) for p in args.old_overlay])
    new = load_pack(resolve_pack(args.new), [Path(p) for p in args.new_overlay])
    changes = diff_packs(old, new) + diff_tables(old.root, new.root)
    # The pack's own tests, when both sides' case files load: a broken case file is rules test's
    # to report; here it only means the tests cannot be compared.
    old_cases, old_note = _cases_or_note(old)
    new_cases, new_note = _cases_or_note(new)
    if old_cases is not None and new_cases is not None:
        changes += diff_cases(old_cases, new_cases)
    else:
        changes.append(Change("tests", "tests/", "changed", tuple(
            f"cannot compare the case files: {note}" for note in (old_note, new_note) if note)))
    if args.json:
        provenance = {side: {"pack": pack.meta.id, "version": pack.meta.version,
                             "content_hash": pack.content_hash}
                      for side, pack in (("old", old), ("new", new))}
        json.dump({**provenance, "changes": [c.to_dict() for c in changes],
                   "warnings": version_warnings(old, new)}, sys.stdout, indent=2)
        print()
    else:
        write_changes(old, new, changes, sys.stdout)
    return 0
