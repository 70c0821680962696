"""Bounds on what one input record may cost, and on what a message repeats of it.

A claims feed is untrusted input: one record can be a megabyte of nesting, a 5,000-digit
number, a 20 MB string or 100,000 lines. Each limit here is checked *before* the expensive step
(parsing, validation, evaluation, printing), so a hostile record costs bounded time and memory
and becomes one error record; the run goes on. ``docs/reliability.md`` lists them with the
reasons for each value.

Messages name the record and the field; they repeat a value only when it is short (at most
:data:`MAX_QUOTED` characters, control characters escaped) and never a patient identifier.

Example:
    >>> quote("medicare ")
    "'medicare '"
    >>> quote("x" * 20_000_000)
    'a text of 20,000,000 characters'
    >>> quote("C1\\nerror: forged")
    "'C1\\\\nerror: forged'"
"""

from __future__ import annotations

from typing import TypeVar

__all__ = [
    "MAX_CLAIM_LINES",
    "MAX_CSV_FIELD",
    "MAX_ERROR_TEXT",
    "MAX_ID",
    "MAX_ISSUES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_INTEGER_DIGITS",
    "MAX_QUOTED",
    "MAX_RECORD_BYTES",
    "printable",
    "quote",
    "remember",
]

K = TypeVar("K")
V = TypeVar("V")

MAX_RECORD_BYTES = 16 * 1024 * 1024
"""Largest record read: a JSON Lines line, one element of a JSON array, a JSON document, a CSV
row. Longer ones are skipped unread (memory stays bounded) and reported. A claim of 100,000
lines in JSON is about 9 MB."""

MAX_CLAIM_LINES = 100_000
"""Most lines one claim may have. X12 allows 50 on an 837P and 999 on an 837I; the limit is far
above any real claim and bounds the work one record can ask for."""

MAX_JSON_DEPTH = 200
"""Nesting depth of JSON, enforced by pydantic-core's parser (a claim needs 4 levels)."""

MAX_JSON_INTEGER_DIGITS = 4300
"""Longest JSON integer (pydantic-core's parser, as Python's own ``int`` conversion limit)."""

MAX_CSV_FIELD = 131_072
"""Longest CSV cell, the :mod:`csv` module's default limit (a row with a longer one is an
error of that row; the process-wide limit is left alone)."""

MAX_ID = 128
"""Longest claim id and line id (X12's CLM01 holds 38 characters, REF*6R 50)."""

MAX_QUOTED = 40
"""Longest value a message repeats; a longer one is described by its length."""

MAX_ISSUES = 20
"""Most issues one error record lists; the rest are counted in a last issue."""

MAX_ERROR_TEXT = 6000
"""Budget, in characters, of the issues of one error record (fields and reasons together)."""

_MAX_REASON = 300
_MAX_FIELD = 200


def printable(text: str) -> str:
    r"""``text`` with every character that is not printable escaped (``\n``, ``\x1b``,
    ``\u202e``, lone surrogates): one line, no terminal control, always encodable.

    Example:
        >>> printable("C1\x1b[2Jerror")
        'C1\\x1b[2Jerror'
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def quote(value: object) -> str:
    """How a message shows an input value: quoted when short, else described.

    Text of up to :data:`MAX_QUOTED` characters is quoted with control characters escaped;
    longer text, large numbers, lists and objects are described by their size, so a message
    stays short whatever the input.

    Example:
        >>> quote(7), quote([1, 2, 3]), quote({"a": 1}), quote(10**5000)
        ('7', 'a list of 3 items', 'an object of 1 key', 'an integer of 5001 digits')
    """
    if isinstance(value, str):
        if len(value) <= MAX_QUOTED:
            return repr(value)  # repr escapes every character that is not printable
        return f"a text of {len(value):,} characters"
    if isinstance(value, bytes):
        return quote(value.decode("utf-8", "replace")) if len(value) <= MAX_QUOTED \
            else f"{len(value):,} bytes"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        # str() of a huge int is itself refused (and quadratic): measure it instead.
        if value.bit_length() > 128:
            return f"an integer of {_digits(value)} digits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return f"an object of {len(value):,} key{'' if len(value) == 1 else 's'}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value):,} item{'' if len(value) == 1 else 's'}"
    text = repr(value)
    return text if len(text) <= MAX_QUOTED else f"a {type(value).__name__} value"


def _digits(value: int) -> int:
    value = abs(value)
    # log10 from the bit length, corrected by one comparison: exact, without str().
    estimate = max(1, int((value.bit_length() - 1) * 0.30102999566398120) + 1)
    return estimate + 1 if value >= 10**estimate else estimate


def cap_reason(text: str) -> str:
    """A reason made printable and cut to a bounded length (the last line of defence: every
    message is built from quoted values, this keeps a library bug from echoing a record)."""
    text = printable(text)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def cap_field(text: str) -> str:
    """A dotted field path made printable and bounded (its keys may come from the input)."""
    text = printable(text)
    return text if len(text) <= _MAX_FIELD else text[: _MAX_FIELD - 1] + "…"


def remember(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """Put ``value`` in ``cache`` under ``key`` and return it, emptying the cache first when it
    holds ``limit`` entries: the caches of derived values (reasons, encodings) that a stream of
    distinct keys must not grow without bound. A value dropped costs one rebuild, never a wrong
    answer, so threads sharing a cache may race on it.

    Example:
        >>> cache = {}
        >>> [remember(cache, n, n * n, limit=2) for n in range(3)], cache
        ([0, 1, 4], {2: 4})
    """
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value

