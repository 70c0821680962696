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

from pydantic import BaseModel, ValidationError

from claimedit.pack.errors import Problem, RulePackError
from claimedit.pack.models import (
    CodeEntry,
    CodeSet,
    CodeTableFile,
    DateRange,
    Edit,
    EditsFile,
    PackFile,
    ProcedureToProcedureEdit,
    RevisionInfo,
    StateOverlayFile,
)
from claimedit.pack.yaml_source import LineMap, load_yaml

__all__ = ["RulePack", "SourcedEdit", "StateOverlay", "load_pack", "packaged_rules_path"]

M = TypeVar("M", bound=BaseModel)


class SourcedEdit(NamedTuple):
    """An edit with the dates it is in force (resolved) and where it was written."""

    edit: Edit
    effective: DateRange
    source: str
    """The revision id, or ``state:<ST>`` for a state overlay."""
    file: str
    line: int | None


@dataclass(frozen=True)
class StateOverlay:
    """A loaded state exception (``states/<ST>.yaml``)."""

    model: StateOverlayFile
    file: str
    edits: tuple[SourcedEdit, ...]

    @property
    def state(self) -> str:
        return self.model.state


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
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, line: int | None, key: str, message: str) -> None:
        self.problems.append(Problem(file, line, key, message))

    def validate(self, model: type[M], data: Any, name: str, lines: LineMap | None) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                line, key = lines.locate(error["loc"]) if lines else (None, "")
                message = error["msg"]
                if error["type"] == "extra_forbidden":
                    message = f"unknown key {key.rsplit('.', 1)[-1]!r}"
                elif error["type"] == "union_tag_invalid":
                    message = f"unknown edit kind; {error['msg'].split('; ', 1)[-1]}"
                self.add(name, line, key, message)
            return None


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
    files = list(paths)
    if "pack.yaml" not in files:
        out.add("pack.yaml", None, "", "missing: every pack needs pack.yaml")
    if "codes.yaml" not in files:
        out.add("codes.yaml", None, "", "missing: every pack needs codes.yaml")
    if not any(name.startswith("edits/") for name in files):
        out.add("edits/", None, "", "missing: every pack needs at least one edits/*.yaml")

    parsed: dict[str, tuple[Any, LineMap]] = {}
    for name, file_path in paths.items():
        data, lines, problems = load_yaml(file_path, name)
        out.problems.extend(problems)
        if lines is not None:
            parsed[name] = (data, lines)

    meta = _validate(out, parsed, "pack.yaml", PackFile)
    table = _validate(out, parsed, "codes.yaml", CodeTableFile)
    codes = table.codes if table else ()
    _check_code_table(out, codes, parsed.get("codes.yaml"))
    known_codes = {entry.code for entry in codes}
    categories = {entry.category for entry in codes}

    revisions: list[RevisionInfo] = []
    edits: list[SourcedEdit] = []
    for name in (name for name in files if name.startswith("edits/")):  # sorted: load order
        edits_file = _validate(out, parsed, name, EditsFile)
        if edits_file is None:
            continue
        lines = parsed[name][1]
        revisions.append(edits_file.revision)
        edits += _resolve(
            out, name, lines, "edits", edits_file.edits, edits_file.revision.effective,
            edits_file.revision.id, known_codes, categories,
        )
    _check_versions(out, edits)

    state_overlays: list[StateOverlay] = []
    base_ids = {item.edit.id for item in edits}
    for name in overlay_names:
        overlay = _validate(out, parsed, name, StateOverlayFile)
        if overlay is None:
            continue
        lines = parsed[name][1]
        stem = Path(name).stem.upper()
        if overlay.state != stem:
            out.add(name, lines.locate(("state",))[0], "state",
                    f"state {overlay.state} does not match the file name {Path(name).name}")
        for index, rule_id in enumerate(overlay.disable):
            if rule_id not in base_ids:
                out.add(name, lines.locate(("disable", index))[0], f"disable.{index}",
                        f"no edit {rule_id!r} in the pack to switch off")
        sourced = _resolve(
            out, name, lines, "edits", overlay.edits, overlay.effective,
            f"state:{overlay.state}", known_codes, categories,
        )
        _check_versions(out, sourced)
        state_overlays.append(StateOverlay(overlay, name, tuple(sourced)))
    states = [overlay.state for overlay in state_overlays]
    for state in {state for state in states if states.count(state) > 1}:
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
        files=tuple(files),
    )


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


def _validate(
    out: _Collector, parsed: dict[str, tuple[Any, LineMap]], name: str, model: type[M]
) -> M | None:
    if name not in parsed:
        return None
    data, lines = parsed[name]
    return out.validate(model, data, name, lines)


def _check_code_table(
    out: _Collector, codes: tuple[CodeEntry, ...], parsed: tuple[Any, LineMap] | None
) -> None:
    lines = parsed[1] if parsed else None
    for index, entry in enumerate(codes):
        for earlier_index, earlier in enumerate(codes[:index]):
            if earlier.code == entry.code and earlier.effective.overlaps(entry.effective):
                line = lines.locate(("codes", index))[0] if lines else None
                earlier_line = lines.locate(("codes", earlier_index))[0] if lines else None
                out.add("codes.yaml", line, f"codes.{index}",
                        f"code {entry.code} is listed twice for overlapping dates "
                        f"({entry.effective} and {earlier.effective} at line {earlier_line})")


def _resolve(
    out: _Collector,
    name: str,
    lines: LineMap | None,
    key: str,
    edits: tuple[Edit, ...],
    default: DateRange,
    source: str,
    known_codes: set[str],
    categories: set[str],
) -> list[SourcedEdit]:
    resolved = []
    for index, edit in enumerate(edits):
        line = lines.locate((key, index))[0] if lines else None
        effective = edit.effective or default
        if not effective.within(default):
            out.add(name, line, f"{key}.{index}.effective",
                    f"edit {edit.id} is in force {effective}, outside its file's {default}")
        sets: list[tuple[str, CodeSet]]
        if isinstance(edit, ProcedureToProcedureEdit):
            sets = [("column1", edit.column1), ("column2", edit.column2)]
        else:
            sets = [("codes", edit.codes)]
        for set_key, code_set in sets:
            for position, code in enumerate(code_set.codes):
                if code not in known_codes:
                    where = (key, index, set_key, "codes", position)
                    out.add(name, lines.locate(where)[0] if lines else line,
                            f"{key}.{index}.{set_key}.codes.{position}",
                            f"unknown code {code}: not in codes.yaml")
            for position, category in enumerate(code_set.categories):
                if category not in categories:
                    where = (key, index, set_key, "categories", position)
                    out.add(name, lines.locate(where)[0] if lines else line,
                            f"{key}.{index}.{set_key}.categories.{position}",
                            f"unknown category {category!r}: no code in codes.yaml has it")
        resolved.append(SourcedEdit(edit, effective, source, name, line))
    return resolved


def _check_versions(out: _Collector, edits: list[SourcedEdit]) -> None:
    """The same id may appear again only as a later version: its dates must not overlap."""
    for index, item in enumerate(edits):
        for earlier in edits[:index]:
            if earlier.edit.id == item.edit.id and earlier.effective.overlaps(item.effective):
                out.add(item.file, item.line, "id",
                        f"duplicate rule id {item.edit.id} (also at {earlier.file}:{earlier.line})"
                        f" with overlapping dates {item.effective} and {earlier.effective}")
