"""The docs check: the commands, links and wording of every Markdown file, as a reader meets them.

Read by ``tests/test_docs.py``; the rules for authors are in ``docs/writing-docs.md``.

Commands are found in fenced code blocks: a line starting with ``$ `` is a command and the lines
after it, up to the next ``$ ``, its output as shown; in a block marked ``sh``, ``shell``,
``bash`` or ``console`` without any ``$`` line, every line that is not blank or a ``#`` comment is
a command with no output shown. A block whose info string holds the word ``illustrative``
(```` ```console illustrative ````) is not run: its ``claimedit`` commands are only parsed.

``claimedit`` commands run in this process (``cli.main`` with stdout and stderr captured into one
stream, as a terminal shows them), from a scratch directory that links to the repository's top
level, so relative paths resolve and files a command writes do not land in the checkout. A
pipeline (``|``) runs in a shell, ``claimedit`` being this interpreter's ``-m claimedit``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from claimedit import cli

ROOT = Path(__file__).resolve().parents[1]
MARKER = "illustrative"
SHELLS = {"sh", "shell", "bash", "console"}


def markdown_files() -> list[Path]:
    """Every Markdown file of the repository a reader can open (not under hidden folders)."""
    return sorted(
        path for path in ROOT.rglob("*.md")
        if not any(part.startswith(".") or part in {"build", "dist", "node_modules", "out"}
                   for part in path.relative_to(ROOT).parts[:-1])
    )


@dataclass
class Command:
    """A command shown in a document, with the output shown after it."""

    file: Path
    line: int
    text: str
    illustrative: bool
    output: list[str] = field(default_factory=list)
    status: int = 0
    """The exit status the document implies: 0, or what a following ``echo $?`` shows."""

    @property
    def where(self) -> str:
        name = self.file.relative_to(ROOT) if ROOT in self.file.parents else self.file
        return f"{name.as_posix()}:{self.line}"


@dataclass
class Block:
    file: Path
    line: int
    info: str
    lines: list[str]


def blocks(path: Path) -> Iterator[Block]:
    """The fenced code blocks of a Markdown file (indented fences in list items included)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: str | None = None
    indent = 0
    for number, text in enumerate(lines, 1):
        stripped = text.lstrip()
        if fence is None:
            match = re.match(r"(`{3,}|~{3,})(.*)$", stripped)
            if match:
                fence, indent = match.group(1), len(text) - len(stripped)
                current = Block(path, number, match.group(2).strip(), [])
        elif stripped.startswith(fence) and not stripped[len(fence):].strip():
            yield current
            fence = None
        else:
            current.lines.append(text[indent:] if text[:indent].isspace() else text.lstrip())


def commands(path: Path) -> Iterator[Command]:
    """The commands shown in a file's code blocks, each with the output shown after it."""
    for block in blocks(path):
        words = block.info.replace(",", " ").split()
        if words[:1] in (["markdown"], ["md"]):
            continue  # Markdown source shown as an example (a page about writing pages)
        illustrative = MARKER in words
        prompted = any(line.startswith("$ ") for line in block.lines)
        shell = bool(words) and words[0] in SHELLS
        if not prompted and not shell:
            continue
        found: list[Command] = []
        pending = ""
        for offset, text in enumerate(block.lines, 1):
            if pending:
                pending += " " + text.strip()
            elif prompted and text.startswith("$ "):
                pending, start = text[2:].strip(), block.line + offset
            elif prompted:
                if found:
                    found[-1].output.append(text)
                continue
            elif text.strip() and not text.lstrip().startswith("#"):
                pending, start = text.strip(), block.line + offset
            else:
                continue
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip()
                continue
            found.append(Command(path, start, pending, illustrative))
            pending = ""
        for command, following in zip(found, [*found[1:], None], strict=True):
            if following is not None and following.text == "echo $?":
                shown = [line.strip() for line in following.output if line.strip()]
                command.status = int(shown[0]) if shown else 0
        yield from found


# --- running ------------------------------------------------------------------------------

@dataclass
class Ran:
    status: int
    output: str


def run(command: Command, scratch: Path, previous: Ran | None) -> tuple[Ran | None, str | None]:
    """Run (or, when illustrative, parse) a command; returns what it did and a problem, if any."""
    words = shlex.split(command.text, comments=True)
    if "|" in words:
        if command.illustrative:
            return None, None
        return _pipeline(command.text, scratch), None
    ran: Ran | None = None
    for part in _split(words, "&&"):
        redirect = part.index(">") if ">" in part else None
        argv = part[:redirect] if redirect is not None else part
        ran, problem = _simple(argv, command, scratch, previous)
        if problem is not None:
            return ran, problem
        if ran is not None and redirect is not None:
            ran = Ran(ran.status, "")  # written to a file: nothing shown on the terminal
    return ran, None


def _split(words: list[str], separator: str) -> Iterator[list[str]]:
    part: list[str] = []
    for word in words:
        if word == separator:
            yield part
            part = []
        else:
            part.append(word)
    yield part


def _simple(argv: list[str], command: Command, scratch: Path, previous: Ran | None
            ) -> tuple[Ran | None, str | None]:
    if not argv:
        return None, "an empty command"
    program, args = argv[0], argv[1:]
    if program == "claimedit":
        if command.illustrative:
            return None, _parses(args)
        return _claimedit(args, scratch), None
    if command.illustrative:
        return None, None
    if program == "echo" and args == ["$?"]:
        shown = previous.status if previous is not None else 0
        return Ran(0, f"{shown}\n"), None
    if program == "cat" and len(args) == 1:
        target = scratch / args[0]
        if not target.is_file():
            return None, f"cat {args[0]}: no such file in the repository"
        return Ran(0, target.read_text(encoding="utf-8")), None
    if program == "pip" and args[:1] == ["install"]:
        return None, _installable(args[1:])
    if program == "python" and args[:1] == ["-m"] and len(args) > 1:
        return None, _module(args[1])
    if program in {"mypy", "ruff"}:
        return None, _dev_tool(program)
    return None, (f"`{program}` is not a command the docs check runs: show it in a block marked "
                  f"`{MARKER}` (see docs/writing-docs.md), or teach tests/_docs.py to check it")


def _claimedit(args: list[str], scratch: Path) -> Ran:
    out = io.StringIO()
    cwd = Path.cwd()
    os.chdir(scratch)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                status = cli.main(args)
            except SystemExit as exc:  # argparse: usage errors and --help
                status = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(cwd)
    return Ran(status, out.getvalue())


def _parses(args: list[str]) -> str | None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            cli._parser().parse_args(args)
        except SystemExit as exc:
            if exc.code:
                return f"does not parse: {err.getvalue().strip().splitlines()[-1]}"
    return None


def _pipeline(text: str, scratch: Path) -> Ran:
    # `claimedit` in the pipeline is this interpreter running this checkout's claimedit.
    source = str(Path(cli.__file__).resolve().parents[1])
    prelude = f'claimedit() {{ {shlex.quote(sys.executable)} -m claimedit "$@"; }}\n'
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [source, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", prelude + text], cwd=scratch,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    return Ran(done.returncode, done.stdout + done.stderr)


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _extras() -> dict[str, list[str]]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    extras = project.get("optional-dependencies", {})
    assert isinstance(extras, dict)
    return extras


def _installable(args: list[str]) -> str | None:
    """`pip install .`, `pip install -e ".[dev]"`: the extras named must exist."""
    specs = [arg for arg in args if not arg.startswith("-")]
    for spec in specs:
        match = re.fullmatch(r"\.(?:\[([\w,\s-]+)\])?", spec)
        if not match:
            return f"pip install {spec}: the docs install this checkout (`.` or `.[extra]`)"
        wanted = {name.strip() for name in (match.group(1) or "").split(",") if name.strip()}
        unknown = wanted - set(_extras())
        if unknown:
            return f"pip install {spec}: no extra {sorted(unknown)} in pyproject.toml"
    return None if specs else "pip install: nothing to install"


def _module(name: str) -> str | None:
    """`python -m MODULE`: the module exists (it is not run: the suite, the benchmark)."""
    sys.path.insert(0, str(ROOT))
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        found = None
    finally:
        sys.path.remove(str(ROOT))
    return None if found is not None else f"python -m {name}: no such module"


def _dev_tool(name: str) -> str | None:
    dev = " ".join(_extras().get("dev", []))
    return None if re.search(rf"\b{name}\b", dev) else f"{name} is not in the dev extra"


# --- comparing output ---------------------------------------------------------------------

_HASH = re.compile(r"sha256:[0-9a-f]{64}")


def _pattern(shown: str) -> re.Pattern[str]:
    """A shown line as a pattern: spaces collapsed, `...` any text, any sha256 content hash."""
    text = " ".join(_HASH.sub("sha256:...", shown).split())
    parts = [re.escape(part) for part in text.split("...")]
    return re.compile(".*".join(parts))


def missing_output(shown: list[str], output: str) -> list[str]:
    """The shown lines not found, in order, in the output (lines may be left out when shown;
    blank lines are ignored)."""
    actual = [" ".join(line.split()) for line in output.splitlines()]
    position = 0
    missing = []
    for line in shown:
        if not line.strip():
            continue
        pattern = _pattern(line)
        for index in range(position, len(actual)):
            if pattern.fullmatch(actual[index]):
                position = index + 1
                break
        else:
            missing.append(line)
    return missing


# --- links and wording --------------------------------------------------------------------

_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_ABSOLUTE = re.compile(r"(?<![\w.~/:-])(/(?:work|home|tmp|Users|root|mnt|opt|srv|var/folders)/"
                       r"(?!\.\.\.)[^\s`)]*|[A-Za-z]:\\(?!\.\.\.)[^\s`)]*)")
_TRACKERS = [
    (re.compile(r"\b(?:GitHub )?issues? #?\d+", re.IGNORECASE),
     "a tracker issue number: say what it is about instead"),
    (re.compile(r"\bpull request #?\d+|\bPR #?\d+", re.IGNORECASE),
     "a pull request number: say what it is about instead"),
    (re.compile(r"\bdomain facts\b", re.IGNORECASE),
     "the team's domain-facts notes, which readers do not have: cite the source itself"),
]


def prose(path: Path) -> Iterator[tuple[int, str]]:
    """Every line of a file, with its number (code blocks included: a path is a path)."""
    yield from enumerate(path.read_text(encoding="utf-8").splitlines(), 1)


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes for a Markdown file."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    inside = False
    for text in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"\s*(```|~~~)", text):
            inside = not inside
        match = None if inside else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", text)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).replace("`", "").lower()).replace(" ",
                                                                                            "-")
            seen = counts.get(slug, 0)
            counts[slug] = seen + 1
            found.add(slug if seen == 0 else f"{slug}-{seen}")
    return found


def broken_links(path: Path) -> Iterator[tuple[int, str, str]]:
    """Relative links whose file, or whose heading anchor, does not exist."""
    inside = False
    for number, text in prose(path):
        if re.match(r"\s*(```|~~~)", text):
            inside = not inside
        if inside:
            continue
        for target in _LINK.findall(text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                yield number, target, "no such file"
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                yield number, target, f"no heading #{anchor} in {linked.name}"
            elif ROOT in path.parents and ROOT not in linked.parents and linked != ROOT:
                yield number, target, "points outside the repository"


def unseen_references(path: Path) -> Iterator[tuple[int, str, str]]:
    """Absolute paths and references to trackers or notes a reader cannot see."""
    for number, text in prose(path):
        for match in _ABSOLUTE.finditer(text):
            yield number, match.group(0), "an absolute path: use a path relative to the checkout"
        for pattern, why in _TRACKERS:
            for match in pattern.finditer(text):
                yield number, match.group(0), why
