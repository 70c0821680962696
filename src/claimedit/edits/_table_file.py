"""The ``table`` key of the table-backed kinds: a file of the pack, found and opened at load time.

The loader validates edits with the pack directory in the validation context
(``{"pack_root": Path}``); a table that is missing, outside the pack or not a table file is a
load-time problem at the edit's ``table`` key, like any other. Without a context (a model built
in Python, or the JSON Schema), the path is only checked for shape.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationInfo

__all__ = ["check_table_path", "resolve_table", "template_fields"]


def check_table_path(value: str) -> str:
    """A relative path inside the pack, written with ``/``."""
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value or not value.strip():
        raise ValueError(f"{value!r}: a path inside the pack, e.g. tables/ptp.bin")
    return value


def resolve_table(value: str, info: ValidationInfo, opener: Callable[[Path], Any]) -> Path | None:
    """The table's path under the pack root of the validation context, opened once by
    ``opener`` to check it is the right kind of table (None without a context)."""
    context = info.context if isinstance(info.context, dict) else {}
    root = context.get("pack_root")
    if root is None:
        return None
    path = Path(root).absolute() / value  # absolute: a pickled engine may run elsewhere
    if not path.is_file():
        raise ValueError(f"no table file {value} in the pack")
    try:
        opener(path)
    except (OSError, ValueError) as exc:
        raise ValueError(str(exc).replace(str(path), value)) from None
    return path


def template_fields(template: str, **sample: object) -> None:
    """Check a message template formats with the placeholders the kind fills in."""
    try:
        template.format(**sample)
    except KeyError as exc:
        raise ValueError(f"unknown placeholder {{{exc.args[0]}}} in message; known: "
                         + ", ".join(f"{{{name}}}" for name in sample)) from None
    except (ValueError, IndexError) as exc:
        raise ValueError(f"message is not a valid template: {exc}") from None
