"""Where ``claimedit check`` writes its results: stdout, or ``-o/--output FILE``.

A regular file is written beside its final name and moved into place when the run finishes, so
that a reader of FILE never sees half a document, and a run that fails (exit status 2) leaves an
earlier FILE as it was. Anything else that exists (``/dev/null``, a named pipe) is written to
directly, never replaced. An output that is one of the inputs is refused before anything is read.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with output(str(folder / "out.jsonl"), inputs=[]) as out:
    ...     _ = out.write("{}\\n")
    >>> (folder / "out.jsonl").read_text()
    '{}\\n'
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO, cast

__all__ = ["SameFileError", "output"]


class SameFileError(ValueError):
    """The output file is one of the input files."""


@contextlib.contextmanager
def output(path: str | None, *, inputs: Sequence[str]) -> Iterator[TextIO]:
    """A text stream for the results: stdout when ``path`` is None or ``-``; else a temporary
    file beside ``path``, renamed to it when the block ends without an exception."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if target.exists() and not target.is_file():
        # /dev/null, a named pipe, /dev/stdout: written to as they are, never replaced.
        with open(target, "w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    for name in inputs:
        if name != "-" and Path(name).exists() and target.exists() \
                and os.path.samefile(name, target):
            raise SameFileError(f"--output {path} is also an input file")
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
        "w", encoding="utf-8", newline="", dir=target.parent or ".",
        prefix=f".{target.name}.", suffix=".part", delete=False)
    try:
        with handle:
            yield cast(TextIO, handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)  # as a plain open() would have made it
        os.replace(handle.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
