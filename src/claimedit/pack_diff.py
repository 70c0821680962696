"""What changed between two rule packs, in words a policy analyst reads.

``claimedit rules diff OLD NEW`` loads both packs (every problem of either is reported, as by
``rules check``) and lists, section by section: the pack's metadata; codes added, removed, or
moved (new dates) or otherwise changed in the code table; revisions added, removed or re-dated;
edits added, removed, and changed, naming each changed field (codes added to or removed from a
code set, payer types added or removed, dates moved, a new CARC, a reworded message); and the
same for state overlays. Fields are compared generically from the validated models, so a new
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from claimedit.pack import RulePack, SourcedEdit, load_pack
from claimedit.pack.models import DateRange
from claimedit.policy_tests import resolve_pack

__all__ = ["Change", "diff_packs", "register", "write_changes"]


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
        [('version: 2026.1.0 -> 9',)]
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
           describe: Any) -> list[Change]:
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
    changes = diff_packs(old, new)
    if args.json:
        provenance = {side: {"pack": pack.meta.id, "version": pack.meta.version,
                             "content_hash": pack.content_hash}
                      for side, pack in (("old", old), ("new", new))}
        json.dump({**provenance, "changes": [c.to_dict() for c in changes]}, sys.stdout,
                  indent=2)
        print()
    else:
        write_changes(old, new, changes, sys.stdout)
    return 0
