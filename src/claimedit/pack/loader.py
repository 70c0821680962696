"""Load a rule pack directory into validated models, reporting every problem at once.

A pack directory holds ``pack.yaml`` (metadata), ``codes.yaml`` (code table), ``edits/*.yaml``
(revisions, each with the edits it puts in force) and optionally ``states/<ST>.yaml`` (state
exceptions). See ``docs/rule-pack-format.md``.

Example:
    >>> from claimedit.pack import load_pack, packaged_rules_path
    >>> pack = load_pack(packaged_rules_path())
    >>> pack.meta.id
    'igrt'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from claimedit.edits import CODE_SET_KEYS, KINDS
from claimedit.limits import MAX_QUOTED, cap_reason, quote
from claimedit.pack.errors import Problem, RulePackError
from claimedit.pack.models import (
    ALWAYS,
    CodeEntry,
    CodeTableFile,
    DateRange,
    Edit,
    EditsFile,
    PackFile,
    RevisionInfo,
    StateOverlayFile,
)
from claimedit.pack.yaml_source import LineMap, load_yaml

__all__ = ["RulePack", "SourcedEdit", "StateOverlay", "load_pack", "packaged_rules_path"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class SourcedEdit(NamedTuple):
    """An edit with the dates it is in force (resolved) and where it was written."""

    edit: Edit
    effective: DateRange
    source: str
    """The revision id, or ``state:<ST>`` for a state overlay."""
    file: str
    line: int | None
    key: str
    """Where in the file, e.g. ``edits.3`` or ``replace.0``."""


@dataclass(frozen=True)
class StateOverlay:
    """A loaded state exception (``states/<ST>.yaml``)."""

    model: StateOverlayFile
    file: str
    replace: tuple[SourcedEdit, ...]
    add: tuple[SourcedEdit, ...]

    @property
    def state(self) -> str:
        return self.model.state

    @property
    def edits(self) -> tuple[SourcedEdit, ...]:
        return self.replace + self.add


@dataclass(frozen=True)
class RulePack:
    """A validated rule pack: metadata, code table, revisions with their edits, overlays."""

    root: str
    meta: PackFile
    codes: tuple[CodeEntry, ...]
    revisions: tuple[RevisionInfo, ...]
    edits: tuple[SourcedEdit, ...]
    overlays: tuple[StateOverlay, ...]
    content_hash: str
    files: tuple[str, ...] = field(default=())


def packaged_rules_path() -> Path:
    """The IGRT pack shipped with the library (inside the wheel, or ``rules/`` in a checkout)."""
    packaged = resources.files("claimedit") / "_rules" / "igrt"
    if packaged.is_dir():
        return Path(str(packaged))
    # Editable installs and source checkouts: the pack lives at the top of the repository.
    return Path(__file__).resolve().parents[3] / "rules" / "igrt"


class _Collector:
    """Gathers problems; turns pydantic errors into problems at the right file, line and key."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(
        self, file: str, line: int | None, key: str, message: str, kind: str = "invalid"
    ) -> None:
        self.problems.append(Problem(file, line, key, message, kind))

    def report(
        self,
        error: ValidationError,
        name: str,
        lines: LineMap,
        prefix: tuple[str | int, ...] = (),
        skip_items_of: str | None = None,
    ) -> None:
        errors = error.errors(include_url=False)
        # A list whose items all failed also reports itself too short: the items say it all.
        failed_lists = {
            (*prefix, *item["loc"][:position]) for item in errors
            for position, step in enumerate(item["loc"]) if isinstance(step, int)
        }
        for item in errors:
            loc = (*prefix, *item["loc"])
            if skip_items_of is not None and len(loc) > 1 and loc[0] == skip_items_of \
                    and isinstance(loc[1], int):
                continue  # an item of the list: validated, and reported, one by one
            if item["type"] == "too_short" and loc in failed_lists:
                continue
            message = item["msg"].removeprefix("Value error, ")
            kind = item["type"]
            if kind == "union_tag_invalid":
                loc = (*loc, "kind")
                expected = item.get("ctx", {}).get("expected_tags", "")
                message = f"unknown edit kind {quote(item['ctx']['tag'])}; expected one of " \
                    f"{expected}"
            line, key = lines.locate(loc)
            if kind in ("missing", "union_tag_not_found"):
                missing = "kind" if kind == "union_tag_not_found" else str(loc[-1])
                key = f"{key}.{missing}" if key else missing
                message = f"missing key {missing!r}"
            elif kind == "extra_forbidden":
                message = f"unknown key {quote(key.rsplit('.', 1)[-1])}"
            elif kind == "too_short":
                message = "needs at least one item"
            elif kind in ("model_type", "model_attributes_type", "dict_type") and not key:
                message = "expected a mapping of keys at the top of the file" \
                    if lines.locate(())[0] else "the file is empty"
            self.add(name, line, key, cap_reason(message), kind)

    def validate(self, model: type[M], data: Any, name: str, lines: LineMap,
                 items_of: str | None = None) -> M | None:
        """Validate a whole file; with ``items_of``, errors inside that list are left to
        :meth:`validate_items`, so one bad item does not hide the others' problems."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.report(exc, name, lines, skip_items_of=items_of)
            return None

    def validate_items(
        self, adapter: TypeAdapter[T], data: Any, key: str, name: str, lines: LineMap
    ) -> list[tuple[int, T]]:
        """Validate each item of the list ``data[key]`` on its own; the valid ones, numbered."""
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []
        valid = []
        for index, item in enumerate(items):
            try:
                valid.append((index, adapter.validate_python(item)))
            except ValidationError as exc:
                self.report(exc, name, lines, prefix=(key, index))
        return valid


_CODE_ENTRY: TypeAdapter[CodeEntry] = TypeAdapter(CodeEntry)
_EDIT: TypeAdapter[Edit] = TypeAdapter(Edit)


def load_pack(path: str | Path, overlays: Iterable[str | Path] = ()) -> RulePack:
    """Load and validate the pack at ``path``. Raises :class:`RulePackError` listing every
    problem (file, line, key) when anything is wrong.

    ``overlays`` adds state-exception files kept outside the pack (a payer's own
    ``<ST>.yaml`` files); they are validated, hashed and applied like the pack's ``states/``.
    """
    root = Path(path)
    out = _Collector()
    if not root.is_dir():
        raise RulePackError(str(root), [Problem(str(root), None, "", "not a rule pack directory")])

    paths = _rule_files(root)
    overlay_names = [name for name in paths if name.startswith("states/")]
    hash_names = {name: name for name in paths}
    for extra in map(Path, overlays):
        # Problems name the file where it is; the hash names it as if it were in states/, so
        # the same rules give the same hash wherever the payer keeps the file.
        name, hash_name = str(extra), f"states/{extra.name}"
        if hash_name in hash_names.values():
            out.add(name, None, "", f"the pack already has an overlay {hash_name}")
        elif not extra.is_file():
            out.add(name, None, "", "no such overlay file")
        else:
            paths[name] = extra
            hash_names[name] = hash_name
            overlay_names.append(name)
    for required in ("pack.yaml", "codes.yaml"):
        if required not in paths:
            out.add(required, None, "", f"missing: every pack needs {required}")
    edit_files = [name for name in paths if name.startswith("edits/")]  # sorted: load order
    if not edit_files:
        out.add("edits/", None, "", "missing: every pack needs at least one edits/*.yaml")

    parsed: dict[str, tuple[Any, LineMap]] = {}
    for name, file_path in paths.items():
        data, lines, problems = load_yaml(file_path, name)
        out.problems.extend(problems)
        if lines is not None:
            parsed[name] = (data, lines)

    meta = None
    if "pack.yaml" in parsed:
        data, lines = parsed["pack.yaml"]
        meta = out.validate(PackFile, data, "pack.yaml", lines)
    codes, table = _load_codes(out, parsed.get("codes.yaml"))

    revisions: list[RevisionInfo] = []
    edits: list[SourcedEdit] = []
    for name in edit_files:
        if name not in parsed:
            continue
        data, lines = parsed[name]
        edits_file = out.validate(EditsFile, data, name, lines, items_of="edits")
        revision = edits_file.revision if edits_file else _revision_or_none(data)
        if revision is not None:
            revisions.append(revision)
        default = revision.effective if revision else ALWAYS
        source = revision.id if revision else name
        valid = out.validate_items(_EDIT, data, "edits", name, lines)
        _check_references(out, name, lines, "edits", table)
        resolved = _resolve(out, name, lines, "edits", valid, default, source)
        # Without its revision's dates an edit's versions cannot be compared: checking them as
        # "always" would report false duplicates under the real problem, the broken header.
        if revision is not None:
            edits += resolved
    _check_versions(out, edits, parsed)

    base_ids = {item.edit.id for item in edits}
    state_overlays = [
        overlay for name in overlay_names if name in parsed
        for overlay in [_load_overlay(out, name, parsed[name], base_ids, table)]
        if overlay is not None
    ]
    states = [overlay.state for overlay in state_overlays]
    for state in sorted({state for state in states if states.count(state) > 1}):
        out.add("states/", None, "", f"more than one overlay for state {state}")

    if out.problems or meta is None:
        raise RulePackError(str(root), out.problems)
    return RulePack(
        root=str(root),
        meta=meta,
        codes=codes,
        revisions=tuple(revisions),
        edits=tuple(edits),
        overlays=tuple(state_overlays),
        content_hash=_content_hash({hash_names[name]: path for name, path in paths.items()}),
        files=tuple(paths),
    )


class _Table:
    """What the edits may name: the codes and categories the code table lists. An entry with a
    problem of its own still names its code, so the edits that use it are not reported too."""

    def __init__(self, data: Any) -> None:
        listed = data.get("codes") if isinstance(data, dict) else None
        # No code table to read (missing, unreadable, empty): its own problem is reported, and
        # every code of every edit is not reported again as unknown.
        self.known = isinstance(listed, list) and bool(listed)
        items = [item for item in listed if isinstance(item, dict)] \
            if isinstance(listed, list) else []
        self.codes = {str(item.get("code", "")).strip().upper() for item in items}
        self.categories = {str(item.get("category", "")) for item in items}


def _revision_or_none(data: Any) -> RevisionInfo | None:
    try:
        return RevisionInfo.model_validate(data.get("revision") if isinstance(data, dict) else None)
    except ValidationError:
        return None  # already reported by the whole-file validation


def _load_codes(
    out: _Collector, parsed: tuple[Any, LineMap] | None
) -> tuple[tuple[CodeEntry, ...], _Table]:
    if parsed is None:
        return (), _Table(None)
    data, lines = parsed
    out.validate(CodeTableFile, data, "codes.yaml", lines, items_of="codes")
    valid = out.validate_items(_CODE_ENTRY, data, "codes", "codes.yaml", lines)
    # Compared within each code only: linear in the table (a 40,000-code table loads in seconds).
    by_code: dict[str, list[tuple[int, CodeEntry]]] = {}
    for index, entry in valid:
        earlier_entries = by_code.setdefault(entry.code, [])
        for earlier_index, earlier in earlier_entries:
            if earlier.effective.overlaps(entry.effective):
                earlier_line = lines.locate(("codes", earlier_index))[0]
                out.add("codes.yaml", lines.locate(("codes", index, "effective"))[0],
                        f"codes.{index}.effective",
                        f"code {entry.code} is listed twice for overlapping dates "
                        f"({entry.effective} and {earlier.effective} at line {earlier_line})",
                        "duplicate_code")
        earlier_entries.append((index, entry))
    return tuple(entry for _, entry in valid), _Table(data)


def _load_overlay(
    out: _Collector,
    name: str,
    parsed: tuple[Any, LineMap],
    base_ids: set[str],
    table: _Table,
) -> StateOverlay | None:
    data, lines = parsed
    overlay = out.validate(StateOverlayFile, data, name, lines)
    for section in ("replace", "add"):
        _check_references(out, name, lines, section, table)
    if overlay is None:
        return None
    stem = Path(name).stem.upper()
    if overlay.state != stem:
        out.add(name, lines.locate(("state",))[0], "state",
                f"state {overlay.state} does not match the file name {Path(name).name}")
    for index, rule_id in enumerate(overlay.disable):
        if rule_id not in base_ids:
            out.add(name, lines.locate(("disable", index))[0], f"disable.{index}",
                    f"no edit {rule_id!r} in the pack to switch off")
        if any(edit.id == rule_id for edit in overlay.replace):
            out.add(name, lines.locate(("disable", index))[0], f"disable.{index}",
                    f"{rule_id} is both switched off and replaced: the replacement would never "
                    "apply; keep one")
    for section, must_exist in (("replace", True), ("add", False)):
        for index, edit in enumerate(getattr(overlay, section)):
            if (edit.id in base_ids) != must_exist:
                why = "no edit with this id in the pack to replace" if must_exist else \
                    "the pack has an edit with this id: list it under replace"
                out.add(name, lines.locate((section, index, "id"))[0], f"{section}.{index}.id",
                        f"{edit.id}: {why}")
    source = f"state:{overlay.state}"
    replace, add = (
        _resolve(out, name, lines, section, list(enumerate(getattr(overlay, section))),
                 overlay.effective, source)
        for section in ("replace", "add")
    )
    _check_versions(out, replace + add, {name: parsed})
    return StateOverlay(overlay, name, tuple(replace), tuple(add))


def _rule_files(root: Path) -> dict[str, Path]:
    """The pack's rule files by their name in the pack, in load order."""
    names = {name: root / name for name in ("pack.yaml", "codes.yaml") if (root / name).is_file()}
    for folder in ("edits", "states"):
        if (root / folder).is_dir():
            for item in sorted((root / folder).iterdir()):
                if item.suffix in (".yaml", ".yml") and item.is_file():
                    names[f"{folder}/{item.name}"] = item
    return names


def _content_hash(paths: dict[str, Path]) -> str:
    """sha256 over every rule file's pack name and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(paths):
        digest.update(name.encode() + b"\0" + paths[name].read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()}"


def _resolve(
    out: _Collector,
    name: str,
    lines: LineMap,
    key: str,
    edits: list[tuple[int, Edit]],
    default: DateRange,
    source: str,
) -> list[SourcedEdit]:
    """Give each edit its dates (its own, else its file's)."""
    resolved = []
    for index, edit in edits:
        line = lines.locate((key, index))[0]
        effective = edit.effective or default
        if not effective.within(default):
            out.add(name, lines.locate((key, index, "effective"))[0], f"{key}.{index}.effective",
                    f"edit {edit.id} is in force {effective}, outside its file's {default}")
        resolved.append(SourcedEdit(edit, effective, source, name, line, f"{key}.{index}"))
    return resolved


def _check_references(
    out: _Collector, name: str, lines: LineMap, key: str, table: _Table
) -> None:
    """Every code and category an edit names must be in the code table.

    Read from the file's data, not the validated edits, so that an edit with a problem of its
    own (an unknown key, say) still has its codes checked in the same run: every problem at once.
    """
    items = lines.value((key,))
    if not table.known or not isinstance(items, list):
        return
    for index, item in enumerate(items):
        # The kind declares which of its keys are code sets; when the kind cannot be read (its
        # own problem is reported), every key any kind declares is checked.
        kind_name = item.get("kind") if isinstance(item, dict) else None
        kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
        for set_key in CODE_SET_KEYS if kind is None else kind.code_sets:
            written = item.get(set_key) if isinstance(item, dict) else None
            # A plain list is short for {codes: [...]}: name the place as the file writes it.
            named: list[tuple[tuple[str | int, ...], Any]]
            if isinstance(written, list):
                named = [((set_key, position), code) for position, code in enumerate(written)]
                categories: list[Any] = []
            elif isinstance(written, dict):
                listed = written.get("codes") or []
                listed = listed if isinstance(listed, list) else []
                named = [((set_key, "codes", position), code)
                         for position, code in enumerate(listed)]
                categories = written.get("categories") or []
            else:
                continue
            for place, code in named:
                if isinstance(code, str) and code.strip().upper() not in table.codes:
                    found, dotted = lines.locate((key, index, *place))
                    out.add(name, found, dotted,
                            f"unknown code {_code(code.strip().upper())}: not in codes.yaml",
                            "unknown_code")
            for position, category in enumerate(categories if isinstance(categories, list) else []):
                if isinstance(category, str) and category not in table.categories:
                    found, dotted = lines.locate((key, index, set_key, "categories", position))
                    out.add(name, found, dotted,
                            f"unknown category {quote(category)}: no code in codes.yaml has it",
                            "unknown_category")


def _code(code: str) -> str:
    """A code as messages write it: bare when it is short and printable, else quoted."""
    return code if len(code) <= MAX_QUOTED and code.isprintable() else quote(code)


def _check_versions(
    out: _Collector, edits: list[SourcedEdit], parsed: dict[str, tuple[Any, LineMap]]
) -> None:
    """The same id may appear again only as a later version: its dates must not overlap."""
    by_id: dict[str, list[SourcedEdit]] = {}  # compared within each id only: linear
    for item in edits:
        versions = by_id.setdefault(item.edit.id, [])
        for earlier in versions:
            if earlier.effective.overlaps(item.effective):
                line = parsed[item.file][1].locate((*_steps(item.key), "id"))[0]
                out.add(item.file, line, f"{item.key}.id",
                        f"duplicate rule id {item.edit.id} (also at {earlier.file}:{earlier.line})"
                        f" with overlapping dates {item.effective} and {earlier.effective}",
                        "duplicate_rule_id")
        versions.append(item)


def _steps(dotted: str) -> tuple[str | int, ...]:
    return tuple(int(part) if part.isdigit() else part for part in dotted.split("."))
