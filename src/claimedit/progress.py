"""A progress line on stderr for long runs of ``claimedit check``.

Shown when stderr is a terminal (``--progress`` / ``--no-progress`` force it on or off), so that
pipes, log files and CI never see it. One line, rewritten in place at most a few times a second:
records done, how many invalid, the rate, the file being read. Cleared when the run ends, so the
summary (or the errors) that follow start on a clean line.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> progress = Progress(out, interval=0.0)
    >>> progress.update("claims.x12", invalid=False)
    >>> progress.close()
    >>> "1 records (0 invalid)" in out.getvalue()
    True
"""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress", "wanted"]


def wanted(choice: bool | None, stream: TextIO) -> bool:
    """Whether to show progress: the user's ``choice``, else whether ``stream`` is a terminal."""
    if choice is not None:
        return choice
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Progress:
    """Counts records and rewrites one status line on ``stream`` every ``interval`` seconds."""

    def __init__(self, stream: TextIO, *, interval: float = 0.25) -> None:
        self._stream = stream
        self._interval = interval
        self._start = time.monotonic()
        self._next = self._start  # the first record shows the line
        self._records = 0
        self._invalid = 0
        self._width = 0

    def update(self, source: str, *, invalid: bool) -> None:
        """One more record from ``source`` (an error record when ``invalid``)."""
        self._records += 1
        self._invalid += invalid
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval
            self._show(source, now)

    def _show(self, source: str, now: float) -> None:
        rate = self._records / max(now - self._start, 1e-9)
        name = source if len(source) <= 40 else "..." + source[-37:]
        line = (f"claimedit: {self._records:,} records ({self._invalid:,} invalid), "
                f"{rate:,.0f}/s, {name}")
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Clear the line (the run's own output follows)."""
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0
