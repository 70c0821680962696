"""docs/cli.md is the parser's own reference: every command and option, with defaults and an
example, regenerated with ``python -m claimedit.cli_reference > docs/cli.md``."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
from pathlib import Path

import pytest

from claimedit import cli, cli_reference

CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_docs_cli_md_is_the_generated_reference() -> None:
    expected = cli_reference.reference()
    actual = CLI_MD.read_text(encoding="utf-8") if CLI_MD.exists() else ""
    if actual != expected:
        diff = "".join(list(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            "docs/cli.md", "generated"))[:60])
        pytest.fail(f"docs/cli.md is out of date with the parser in src/claimedit/cli.py; "
                    f"regenerate it (from the top of the checkout, this checkout's claimedit "
                    f"importable):\n\n    {cli_reference.COMMAND}\n\n{diff}")


def test_every_command_and_option_is_in_the_reference_with_its_default() -> None:
    text = cli_reference.reference()
    for command in cli_reference.commands():
        assert f"## claimedit {command.name}".rstrip() in text
        for action in command.parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # -h: every command has it; the reference says so once
            for option in action.option_strings:
                assert f"`{option}" in text or f", {option}" in text, (command.name, option)
    assert "| `--format {fhir,json,jsonl,table}` | output format | `table` |" in text
    assert "| `--as-of DATE` | date of service YYYY-MM-DD | today |" in text


def test_every_command_that_runs_has_an_example_and_each_example_parses() -> None:
    for command in cli_reference.commands():
        shown = cli_reference.examples(command.parser)
        if command.leaf and command.name:
            assert shown, f"claimedit {command.name} has no example"
        for text, _ in shown:
            words = text.split()
            assert words[0] == "claimedit"
            with contextlib.redirect_stderr(io.StringIO()):
                cli._parser().parse_args(words[1:])  # SystemExit (a failure) if it does not


def test_a_command_without_an_example_is_refused_with_the_way_to_add_one() -> None:
    """What the author of a new subcommand sees if they forget the example."""
    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    new = commands.add_parser("frobnicate", help="a new command")
    new.add_argument("--level", type=int, default=3, help="how much")
    with pytest.raises(cli_reference.MissingExampleError) as caught:
        cli_reference.reference(parser)
    assert caught.value.names == ("frobnicate",)
    message = str(caught.value)
    assert "`claimedit frobnicate`" in message and 'epilog="example: claimedit' in message
    assert cli_reference.COMMAND in message
    new.epilog = "example (illustrative): claimedit frobnicate --level 4"
    text = cli_reference.reference(parser)
    assert "| `--level LEVEL` | how much | `3` |" in text
    assert "```console illustrative\n$ claimedit frobnicate --level 4\n```" in text


def test_the_generator_prints_the_reference() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_reference.main([]) == 0
    assert out.getvalue() == cli_reference.reference()
