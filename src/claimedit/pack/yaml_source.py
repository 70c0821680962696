"""Read a rule file as plain data and remember where every key stands.

PyYAML's safe loader builds the data (no Python objects, no custom tags); walking its node tree
gives the line of every mapping key and sequence item, so a validation error on
``edits.2.column1.codes.0`` can name ``edits/policy.yaml:41``. The same walk rejects what safe
loading lets through but a rule file should never contain: duplicate keys (YAML keeps the last one
silently) and non-string keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from claimedit.pack.errors import Problem

__all__ = ["LineMap", "load_yaml"]


class _RuleFileLoader(yaml.SafeLoader):
    """Safe loading, with dates left as text: the models parse them, so a bad date such as
    2025-13-31 is a problem at its key and line instead of an exception from the YAML parser."""


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
        return None, None, [Problem(name, None, "", f"cannot read the file: {exc}")]
    loader = _RuleFileLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, LineMap(None, {}), []
        problems: list[Problem] = []
        lines: dict[Loc, int] = {(): node.start_mark.line + 1}
        _walk(node, (), lines, problems, name)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        if isinstance(exc, yaml.constructor.ConstructorError):
            what = f"not plain data: {what}"
        return None, None, [Problem(name, line, "", f"invalid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, None, [Problem(name, None, "", f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    return data, LineMap(data, lines), problems


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
                problems.append(Problem(name, line, dotted, f"key {key!r} is not a plain string"))
                continue
            if key in seen:
                dotted = ".".join(str(step) for step in (*path, key))
                problems.append(Problem(name, line, dotted, f"duplicate key {key!r}"))
            seen.add(key)
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, problems, name)
