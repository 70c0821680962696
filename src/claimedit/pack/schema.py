"""JSON Schemas for rule files, generated from the pydantic models.

Editors that speak the YAML language server (VS Code's YAML extension, JetBrains, Neovim) read
the ``# yaml-language-server: $schema=...`` comment at the top of each rule file and then complete
keys and flag mistakes while an analyst types. The schemas are committed under ``rules/schema/``;
regenerate them after changing a model, and a test fails while they are out of date::

    python -m claimedit.pack.schema            # rewrite rules/schema/*.schema.json
    python -m claimedit.pack.schema --check    # exit 1 if any is out of date
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from claimedit.pack.cases import CaseFile
from claimedit.pack.models import CodeTableFile, EditsFile, PackFile, StateOverlayFile

__all__ = ["SCHEMAS", "render", "schema_dir"]

SCHEMAS: dict[str, type[BaseModel]] = {
    "pack.schema.json": PackFile,
    "codes.schema.json": CodeTableFile,
    "edits.schema.json": EditsFile,
    "state.schema.json": StateOverlayFile,
    "tests.schema.json": CaseFile,
}
"""Schema file name -> the model of the rule file it describes."""


def schema_dir() -> Path:
    """``rules/schema`` next to the packaged pack (in a checkout: the repository's)."""
    from claimedit.pack.loader import packaged_rules_path

    return packaged_rules_path().parent / "schema"


def render(model: type[BaseModel]) -> str:
    """The JSON Schema of ``model`` as committed: stable key order, trailing newline."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **model.model_json_schema(mode="validation"),
    }
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check that they are current")
    parser.add_argument("--dir", type=Path, default=None, help="where the schemas live")
    args = parser.parse_args(argv)
    folder = args.dir or schema_dir()
    stale = []
    for name, model in SCHEMAS.items():
        path = folder / name
        text = render(model)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python -m claimedit.pack.schema")
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(SCHEMAS)} schemas in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
