"""The command-line reference, ``docs/cli.md``, generated from the ``claimedit`` argument parser.

Re-run after adding or changing a command or an option (``tests/test_cli_reference.py`` fails
while the file is out of date)::

    python -m claimedit.cli_reference > docs/cli.md

Every command gets its usage, a table of its arguments with their defaults, and its examples.
The examples are the ``example: claimedit ...`` lines of the command's ``epilog`` in
``claimedit/cli.py`` (``--help`` shows them too); a command without one is refused, so the
author of a new command writes one. An example that needs data the repository does not ship is
written ``example (illustrative): claimedit ...``; the docs check then only parses it instead of
running it (see ``docs/writing-docs.md``).

Example:
    >>> from claimedit.cli_reference import reference
    >>> print(reference().splitlines()[0])
    # Command-line reference
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from claimedit import cli

__all__ = ["Command", "MissingExampleError", "commands", "examples", "main", "reference"]

COMMAND = "python -m claimedit.cli_reference > docs/cli.md"
"""The command that regenerates ``docs/cli.md``."""

_WIDTH = 100  # usage lines are wrapped at a fixed width, not the terminal's: the file is stable
_EXAMPLE = re.compile(r"^example( \(illustrative\))?: (claimedit .*)$")
_DEFAULT = re.compile(r"\s*\(default: ([^)]*)\)")


class MissingExampleError(ValueError):
    """Commands whose parser gives no ``example:`` line in its epilog."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        super().__init__(
            "no example for " + ", ".join(f"`claimedit {name}`" for name in names)
            + ": add one to the epilog of its parser in claimedit/cli.py, e.g. "
            'epilog="example: claimedit ... (a command that runs on the files of the repository)"'
            ' or "example (illustrative): claimedit ..." when it needs data the repository does '
            f"not ship; then run `{COMMAND}`"
        )


@dataclass(frozen=True)
class Command:
    """A command of the parser: ``name`` is the words after ``claimedit`` (``rules check``)."""

    name: str
    parser: argparse.ArgumentParser
    help: str
    leaf: bool


def commands(parser: argparse.ArgumentParser | None = None) -> list[Command]:
    """Every command, depth first in the order the parser declares them (the root first)."""
    root = parser or cli._parser()
    return list(_walk(root, "", root.description or ""))


def _walk(parser: argparse.ArgumentParser, name: str, help_text: str) -> Iterator[Command]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    yield Command(name, parser, help_text, leaf=not subparsers)
    for action in subparsers:
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for sub_name, sub in action.choices.items():
            yield from _walk(sub, f"{name} {sub_name}".strip(), helps.get(sub_name, ""))


def examples(parser: argparse.ArgumentParser) -> list[tuple[str, bool]]:
    """The ``(command line, illustrative)`` examples of a parser's epilog."""
    found = []
    for line in (parser.epilog or "").splitlines():
        match = _EXAMPLE.match(line.strip())
        if match:
            found.append((match.group(2), match.group(1) is not None))
    return found


def reference(parser: argparse.ArgumentParser | None = None) -> str:
    """The text of ``docs/cli.md``. Raises :class:`MissingExampleError` when a command that
    runs (a leaf: ``check``, ``rules show``, not ``rules``) has no example."""
    found = commands(parser)
    missing = [c.name for c in found if c.leaf and c.name and not examples(c.parser)]
    if missing:
        raise MissingExampleError(missing)
    out = [
        "# Command-line reference",
        "",
        "Every `claimedit` command and option, with its default and an example. This file is",
        "generated from the argument parser in `src/claimedit/cli.py`: do not edit it by hand;",
        "after changing a command or an option, regenerate it with",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "and `tests/test_cli_reference.py` checks that it was. `claimedit COMMAND --help`",
        "(or `-h`) prints the same text, and the README introduces the commands.",
        "",
        "Exit status, for every command: 0 every record was decided; 1 some input records were",
        "invalid or unreadable, each reported (the rest was still processed); 2 a usage error, a",
        "broken rule pack, a missing extra a format needs, or an internal error.",
        "",
        "Which rules: without `--rules`, commands use the default IGRT pack (the copy installed",
        "with claimedit; in a checkout run without installing, `rules/igrt/`). Each command that",
        "loads rules names the pack on stderr (`rules: igrt <version> <hash> from <folder>`),",
        "and adds a note when the current folder holds a `rules/igrt/` that is not the one in use:",
        "to check a changed pack in a checkout, name it (`--rules rules/igrt`).",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    out += [f"| [`claimedit {c.name}`](#{_anchor(c.name)}) | {_cell(c.help)} |"
            for c in found if c.name]
    for command in found:
        out += ["", *_section(command)]
    return "\n".join(out) + "\n"


def _section(command: Command) -> list[str]:
    parser = command.parser
    title = f"claimedit {command.name}".strip()
    lines = [f"## {title}", ""]
    about = " ".join((parser.description or command.help).split())
    if about:
        lines += [_cell(about[0].upper() + about[1:] + ("" if about.endswith(".") else ".")), ""]
    # formatter_class is typed as a bare callable of prog; every HelpFormatter takes width.
    formatter = parser.formatter_class(prog=parser.prog, width=_WIDTH)  # type: ignore[call-arg]
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups,
                        prefix="")
    lines += ["```text", formatter.format_help().rstrip(), "```", ""]
    rows = [_row(action) for action in parser._actions
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)]
    if rows:
        lines += ["| argument | meaning | default |", "|---|---|---|", *rows, ""]
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for action in subcommands:
        lines += [f"Commands: {', '.join(f'`{title} {name}`' for name in action.choices)}.", ""]
    shown = examples(parser)
    runnable = [text for text, illustrative in shown if not illustrative]
    illustrative = [text for text, illustrative in shown if illustrative]
    if runnable:
        lines += ["Example:" if len(runnable) == 1 else "Examples:", "", "```console",
                  *(f"$ {text}" for text in runnable), "```", ""]
    if illustrative:
        lines += ["Illustrative (needs data the repository does not ship):", "",
                  "```console illustrative", *(f"$ {text}" for text in illustrative), "```", ""]
    return lines[:-1]


def _row(action: argparse.Action) -> str:
    if action.option_strings:
        name = ", ".join(action.option_strings)
        if action.nargs != 0:
            name += f" {_metavar(action)}"
    else:
        name = _metavar(action)
        if action.nargs == "?":
            name = f"[{name}]"
        elif action.nargs in ("+", "*"):
            name = f"{name} ..." if action.nargs == "+" else f"[{name} ...]"
    text = action.help or ""
    if isinstance(action, argparse._VersionAction):
        text = text or "print the version and exit"
    inline = _DEFAULT.search(text)
    if inline:
        default = inline.group(1)
        text = _DEFAULT.sub("", text)
    elif action.required:
        default = "required"
    elif action.default in (None, False, [], argparse.SUPPRESS):
        default = ""
    else:
        default = f"`{action.default}`"
    if isinstance(action, argparse._AppendAction | argparse._ExtendAction) \
            and "repeatable" not in text:
        text += " (repeatable)"
    return f"| `{name}` | {_cell(text)} | {_cell(default)} |"


def _metavar(action: argparse.Action) -> str:
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest.upper() if action.option_strings else action.dest


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _anchor(name: str) -> str:
    return "claimedit-" + name.replace(" ", "-")


def main(argv: Sequence[str] | None = None) -> int:
    """Print ``docs/cli.md``; exit 2 naming the commands that have no example."""
    parser = argparse.ArgumentParser(
        prog="python -m claimedit.cli_reference",
        description=f"Print the command-line reference (docs/cli.md): {COMMAND}")
    parser.parse_args(argv)
    try:
        text = reference()
    except MissingExampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
