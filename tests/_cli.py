"""Run the ``claimedit`` command line in this process, answering as ``subprocess.run`` does.

The team rule is a few subprocess tests for the command line and the rest in process: a
subprocess costs an interpreter start and every import again (about a third of a CPU second
each), and proves nothing more than ``cli.main`` with the same arguments, standard streams and
working directory. The subprocess tests that remain (``tests/test_cli.py``: the console script,
stdin from a pipe, exit statuses; ``tests/adapters/test_adapters_cli.py``: the core imports none
of the extras; ``tests/test_history_concurrency.py``: processes sharing one store; the docs
check's pipelines) cover what only a real process shows.

Standard input and output are binary buffers behind UTF-8 text wrappers, as a process started
with ``PYTHONIOENCODING=utf-8`` has them, so the CLI's ``sys.stdin.buffer`` reads and its
``reconfigure(errors=...)`` of its streams behave as in a process.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from claimedit import cli


def run_cli(args: Sequence[str | Path], stdin: str | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``claimedit ARGS`` run by ``cli.main``; returns its exit status, stdout and stderr.

    >>> run_cli(["rules", "check"]).returncode
    0
    """
    argv = [str(arg) for arg in args]
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    # A buffered reader, as a process's stdin (the readers peek at it to detect the format).
    given = io.TextIOWrapper(io.BufferedReader(io.BytesIO((stdin or "").encode("utf-8"))),
                             encoding="utf-8")
    saved = sys.stdin, sys.stdout, sys.stderr
    here = Path.cwd()
    sys.stdin, sys.stdout, sys.stderr = given, out, err
    try:
        if cwd is not None:
            os.chdir(cwd)
        try:
            status = cli.main(argv)
        except SystemExit as exc:  # argparse: usage errors and --help
            status = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        os.chdir(here)
    texts = []
    for stream in (out, err):
        stream.flush()
        buffer = stream.buffer
        assert isinstance(buffer, io.BytesIO)
        texts.append(buffer.getvalue().decode("utf-8"))
    return subprocess.CompletedProcess(["claimedit", *argv], status, texts[0], texts[1])
