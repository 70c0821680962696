"""``claimedit rules list``: the rule packs shipped with the library.

Each packaged pack with its name (what ``--rules`` and :func:`claimedit.load_engine` take), its
version, title and content hash; ``igrt`` is the default when no ``--rules`` is given. Packs are
loaded (validated) to be listed, so a broken packaged pack shows here as an error, exit 2.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> write_list(out)
    >>> "ncci-radonc" in out.getvalue()
    True
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from claimedit.pack import load_pack, packaged_packs, packaged_rules_path

__all__ = ["register", "write_list"]


def write_list(out: TextIO) -> None:
    """Print the packaged packs, one a line, then how to choose them."""
    default = packaged_rules_path().name
    for name, path in packaged_packs().items():
        pack = load_pack(path)
        marker = " (default)" if name == default else ""
        print(f"{name:<14} {pack.meta.version:<10} {pack.meta.title}{marker}", file=out)
        print(f"{'':<14} {len(pack.edits)} edits, {len(pack.codes)} codes, "
              f"{pack.content_hash[:19]}..., {path}", file=out)
    print("\nchoose with --rules NAME or --rules DIR, repeated to evaluate packs together, e.g. "
          "--rules igrt --rules ncci-radonc", file=out)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``claimedit rules list`` to the ``rules`` subcommands."""
    listing = commands.add_parser(
        "list", help="list the rule packs shipped with claimedit",
        epilog="example: claimedit rules list")
    listing.set_defaults(run=_command)


def _command(args: argparse.Namespace) -> int:
    write_list(sys.stdout)
    return 0
