"""The docs check: every command shown in the Markdown files runs and prints what is shown (or
is marked illustrative), every relative link resolves, and nothing points where a reader cannot
follow (absolute paths, tracker numbers, private notes). Rules for authors:
``docs/writing-docs.md``; the machinery: ``tests/_docs.py``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import _docs
import pytest
from _docs import ROOT

FILES = _docs.markdown_files()


def _ids(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that links to the repository's top level: documented commands see the
    checkout's files by their relative paths, and what they write stays out of it."""
    where = tmp_path_factory.mktemp("docs-cwd")
    for entry in ROOT.iterdir():
        if not entry.name.startswith("."):
            (where / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return where


def _problems(path: Path, scratch: Path) -> list[str]:
    problems = []
    previous: _docs.Ran | None = None
    for command in _docs.commands(path):
        ran, problem = _docs.run(command, scratch, previous)
        if problem is not None:
            problems.append(f"{command.where}: $ {command.text}\n    {problem}")
            continue
        if ran is None:
            continue
        if ran.status != command.status:
            problems.append(f"{command.where}: $ {command.text}\n    exit status {ran.status}, "
                            f"the document implies {command.status} (add `$ echo $?` and the "
                            f"status after the output when it is not 0)\n"
                            + textwrap.indent(ran.output[-2000:], "    | "))
        missing = _docs.missing_output(command.output, ran.output)
        if missing:
            problems.append(f"{command.where}: $ {command.text}\n    shown but not printed:\n"
                            + textwrap.indent("\n".join(missing), "    - ")
                            + "\n    printed:\n" + textwrap.indent(ran.output[-3000:], "    | "))
        previous = ran
    return problems


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_every_command_shown_runs_and_prints_what_is_shown(path: Path, scratch: Path) -> None:
    problems = _problems(path, scratch)
    assert not problems, (
        "commands in the docs that do not do what the docs show (see docs/writing-docs.md; mark "
        "a block `illustrative` only when it needs data the repository does not ship):\n"
        + "\n".join(problems))


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_every_relative_link_resolves(path: Path) -> None:
    broken = [f"{_ids(path)}:{line}: ({target}) {why}"
              for line, target, why in _docs.broken_links(path)]
    assert not broken, "broken links:\n" + "\n".join(broken)


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_nothing_points_where_a_reader_cannot_follow(path: Path) -> None:
    found = [f"{_ids(path)}:{line}: {text!r}: {why}"
             for line, text, why in _docs.unseen_references(path)]
    assert not found, "references a reader cannot follow:\n" + "\n".join(found)


def test_the_docs_check_finds_commands_in_every_kind_of_block() -> None:
    """The files hold commands where the check looks for them (a check that finds nothing
    passes for nothing)."""
    shown = {(_ids(c.file), c.text.split()[0]) for path in FILES for c in _docs.commands(path)}
    assert ("README.md", "claimedit") in shown and ("README.md", "pip") in shown
    assert ("docs/cli.md", "claimedit") in shown
    assert sum(1 for path in FILES for c in _docs.commands(path)
               if c.text.startswith("claimedit") and not c.illustrative) >= 20


# --- the check catches what it is for -------------------------------------------------------

def _doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_stale_output_an_unknown_command_and_a_wrong_status_are_reported(
    tmp_path: Path, scratch: Path
) -> None:
    path = _doc(tmp_path, """\
        ```
        $ claimedit explain G6001-TC --date 2025-03-03 --payer commercial --with 77385
        G6001-TC on 2025-03-03, commercial, with 77385 the same day: ALLOW
        ```

        ```sh
        cp -r rules/igrt my-igrt
        ```

        ```
        $ claimedit rules check no-such-pack
        $ echo $?
        0
        ```
        """)
    problems = "\n".join(_problems(path, scratch))
    assert "shown but not printed" in problems and "ALLOW" in problems
    assert "`cp` is not a command the docs check runs" in problems
    assert "exit status 2, the document implies 0" in problems


def test_matching_output_wildcards_and_the_illustrative_marker(
    tmp_path: Path, scratch: Path
) -> None:
    path = _doc(tmp_path, """\
        ```
        $ claimedit explain G6001-TC --date 2025-03-03 --payer commercial --with 77385
        G6001-TC on 2025-03-03, commercial, with 77385 the same day: BUNDLE
          IGRT-TC-BUNDLED-INTO-IMRT: bundle, CO-97 M15 (from ...)
        $ claimedit rules check rules/igrt
        ok: rules/igrt: igrt ... sha256:{zeros} (checked by claimedit ...)
        ```

        ```console illustrative
        $ claimedit explain G6001-TC --date 2025-03-03 --payer commercial --rules my-igrt
        anything at all
        $ cp -r rules/igrt my-igrt
        ```
        """.replace("{zeros}", "0" * 64))
    assert _problems(path, scratch) == []
    misspelt = _doc(tmp_path, """\
        ```console illustrative
        $ claimedit explain G6001-TC --dos 2025-03-03 --payer commercial --rules my-igrt
        ```
        """)
    [problem] = _problems(misspelt, scratch)
    assert "does not parse" in problem and "--dos" in problem


def test_broken_links_absolute_paths_and_tracker_references_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# A heading\n", encoding="utf-8")
    path = _doc(tmp_path, """\
        # Page

        See [other](other.md#a-heading), [gone](gone.md), [bad anchor](other.md#nope) and
        [this page](#page).
        The policy text is in /work/shared/reference/igrt-policy.txt (GitHub issue 4, and the
        domain facts, section 6).
        """)
    broken = {(target, why) for _, target, why in _docs.broken_links(path)}
    assert broken == {("gone.md", "no such file"),
                      ("other.md#nope", "no heading #nope in other.md")}
    unseen = {text for _, text, _ in _docs.unseen_references(path)}
    assert unseen == {"/work/shared/reference/igrt-policy.txt", "GitHub issue 4",
                      "domain facts"}


def test_a_pipeline_runs_in_a_shell_with_this_checkouts_claimedit(
    tmp_path: Path, scratch: Path
) -> None:
    path = _doc(tmp_path, """\
        ```console
        $ claimedit check examples/claims.jsonl --format jsonl 2>/dev/null | grep -c claim_id
        16
        ```
        """)
    [command] = _docs.commands(path)
    ran, problem = _docs.run(command, scratch, None)
    assert problem is None and ran is not None and ran.status == 0
    assert ran.output.split() == [str(len((ROOT / "examples" / "claims.jsonl").read_text(
        encoding="utf-8").splitlines()))]
