"""The error family for a broken rule pack: every problem, each with file, line and key."""

from __future__ import annotations

from typing import NamedTuple

from claimedit.limits import printable

__all__ = ["Problem", "RulePackError"]


class Problem(NamedTuple):
    """One thing wrong with a rule file."""

    file: str
    """Path of the rule file, relative to the pack directory."""
    line: int | None
    """1-based line in the file, when the problem has a place."""
    key: str
    """Dotted path of the offending key, e.g. ``edits.2.column1.codes.0`` (0-based)."""
    message: str
    type: str = "invalid"
    """Stable slug of the kind of problem (``yaml_alias``, ``duplicate_key``, ``unknown_code``,
    pydantic's ``missing`` / ``extra_forbidden`` ...); the message is for people."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" [{printable(self.key)}]" if self.key else ""
        return f"{printable(where)}{key}: {printable(self.message)}"


class RulePackError(Exception):
    """A rule pack could not be loaded. ``problems`` lists every problem found, not the first.

    Example:
        >>> err = RulePackError("rules/x", [Problem("edits/a.yaml", 3, "edits.0.kind", "unknown")])
        >>> print(err)
        rule pack rules/x has 1 problem:
          edits/a.yaml:3 [edits.0.kind]: unknown
    """

    def __init__(self, pack: str, problems: list[Problem]) -> None:
        self.pack = pack
        self.problems = tuple(problems)
        plural = "" if len(self.problems) == 1 else "s"
        lines = [f"rule pack {pack} has {len(self.problems)} problem{plural}:"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type[RulePackError], tuple[str, list[Problem]]]:
        return (type(self), (self.pack, list(self.problems)))
