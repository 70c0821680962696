r"""Read a rule file as plain data and remember where every key stands.

PyYAML's safe loader builds the data (no Python objects, no custom tags); walking its node tree
gives the line of every mapping key and sequence item, so a validation error on
``edits.2.column1.codes.0`` can name ``edits/policy.yaml:41``. The same walk rejects what safe
loading lets through but a rule file should never contain: duplicate keys (YAML keeps the last one
silently) and non-string keys.

Rule files come from payers and vendors, so reading one is bounded whatever it holds:

- aliases (``*name``) are refused, each a problem at its line: a rule file writes its values out
  (an analyst reads it beside the policy), and an alias is how a 400-byte file becomes a gigabyte
  (nested aliases) or a cycle (a recursive alias); anchors alone are harmless and allowed;
- nesting deeper than :data:`MAX_YAML_DEPTH` is a problem at its line, not a ``RecursionError``;
- a scalar its tag cannot read (``!!int abc``, ``!!timestamp abc``, an integer of more than 4,300
  digits) is a problem at its line, not a ``ValueError``.

libyaml (PyYAML's C extension) scans and parses when it is installed (a 40,000-code table loads in
a few seconds); the composition, where the checks above live, is PyYAML's own.

Example:
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "codes.yaml"
    ...     _ = path.write_text("a: &x [1]\nb: *x\n")
    ...     print(*load_yaml(path, "codes.yaml")[2])
    codes.yaml:2 [b]: aliases are not allowed in rule files: write the value out (alias *x)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from claimedit.limits import cap_reason, quote
from claimedit.pack.errors import Problem

__all__ = ["MAX_YAML_DEPTH", "LineMap", "load_yaml"]

MAX_YAML_DEPTH = 64
"""Deepest nesting of a rule file (the deepest real one is about 6)."""

class _PurePythonParser(Reader, Scanner, Parser):
    """PyYAML's own reader, scanner and parser, where libyaml is not installed."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


# libyaml (C) when present: the same events, an order of magnitude faster.
_Parser: Any
try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = _PurePythonParser


class _RuleFileLoader(Composer, _Parser, SafeConstructor, Resolver):  # type: ignore[misc]
    """Safe loading, with dates left as text (the models parse them, so a bad date such as
    2025-13-31 is a problem at its key and line instead of an exception from the YAML parser),
    aliases refused and nesting bounded as they are composed, and scalar errors as problems."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.depth = 0
        self.problems: list[tuple[int, str]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(AliasEvent):
            # Never followed: the alias becomes null and a problem at its own line.
            event = self.get_event()
            self.problems.append((event.start_mark.line + 1, "aliases are not allowed in rule "
                                  f"files: write the value out (alias *{_short(event.anchor)})"))
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark,
                                   event.end_mark)
        if self.check_event(MappingStartEvent, SequenceStartEvent):
            self.depth += 1
            if self.depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark)
            try:
                node = super().compose_node(parent, index)
            finally:
                self.depth -= 1
            return node
        assert self.check_event(ScalarEvent)
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # A tag that cannot read its scalar: !!int abc, !!timestamp abc, !!bool maybe.
            tag = node.tag.rsplit(":", 1)[-1]
            raise ConstructorError(None, None, f"the value cannot be read as {tag} "
                                   f"({type(exc).__name__})", node.start_mark) from None


def _short(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= 40 else text[:39] + "…"


_RuleFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

Loc = tuple[str | int, ...]


class LineMap:
    """Map from a data path to the 1-based line where it is written."""

    def __init__(self, data: Any, lines: dict[Loc, int]) -> None:
        self._data = data
        self._lines = lines

    def value(self, loc: Sequence[str | int]) -> Any:
        """The data at ``loc``, or ``None`` when there is nothing there."""
        node = self._data
        for step in loc:
            if isinstance(node, dict):
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                return None
        return node

    def locate(self, loc: Sequence[str | int]) -> tuple[int | None, str]:
        """The line and the dotted key of ``loc`` (a pydantic error location).

        Steps of ``loc`` that are not in the data (pydantic's union tags, such as an edit's kind)
        are skipped, so the answer is the deepest place that really exists in the file.
        """
        node = self._data
        path: list[str | int] = []
        for step in loc:
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                continue  # a union tag or a key the data lacks: not a place in the file
            path.append(step)
        line = None
        for depth in range(len(path), -1, -1):
            line = self._lines.get(tuple(path[:depth]))
            if line is not None:
                break
        return line, ".".join(str(step) for step in path)


def load_yaml(path: Path, name: str) -> tuple[Any, LineMap | None, list[Problem]]:
    """Parse ``path`` safely. Returns the data, its line map, and the problems found.

    ``name`` is how problems name the file (its path relative to the pack).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [Problem(name, None, "", f"cannot read the file: {exc}",
                                    "file_unreadable")]
    loader = _RuleFileLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, LineMap(None, {}), []
        lines: dict[Loc, int] = {(): node.start_mark.line + 1}
        problems: list[Problem] = []
        _walk(node, (), lines, problems, name)
        problems[:0] = _alias_problems(loader, name, lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        kind = "yaml_invalid"
        if isinstance(exc, yaml.constructor.ConstructorError):
            what, kind = f"not plain data: {what}", "yaml_not_plain_data"
        return None, None, [*_alias_problems(loader, name, {}),
                            Problem(name, line, "", cap_reason(f"invalid YAML: {what}"), kind)]
    except yaml.YAMLError as exc:
        return None, None, [Problem(name, None, "", cap_reason(f"invalid YAML: {exc}"),
                                    "yaml_invalid")]
    finally:
        loader.dispose()
    return data, LineMap(data, lines), problems


def _alias_problems(loader: _RuleFileLoader, name: str, lines: dict[Loc, int]) -> list[Problem]:
    """One problem per alias line, named by the outermost key written on that line."""
    keys: dict[int, Loc] = {}
    for key, line in lines.items():
        if key and (line not in keys or len(key) < len(keys[line])):
            keys[line] = key
    said: dict[tuple[int, str], Problem] = {}
    for line, message in loader.problems:
        dotted = ".".join(map(str, keys.get(line, ())))
        said.setdefault((line, message), Problem(name, line, dotted, message, "yaml_alias"))
    return list(said.values())


def _walk(
    node: yaml.Node, path: Loc, lines: dict[Loc, int], problems: list[Problem], name: str
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                dotted = ".".join(str(step) for step in path)
                problems.append(Problem(name, line, dotted, f"key {quote(key)} is not a plain "
                                        "string", "key_not_string"))
                continue
            if key in seen:
                dotted = ".".join(str(step) for step in (*path, key))
                problems.append(Problem(name, line, dotted, f"duplicate key {quote(key)}",
                                        "duplicate_key"))
            seen.add(key)
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, problems, name)
