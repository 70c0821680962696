"""The committed JSON Schemas match the models; every rule file names its schema and meets it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from claimedit.pack import packaged_rules_path
from claimedit.pack.schema import SCHEMAS, render, schema_dir

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_OF = {"pack.yaml": "pack.schema.json", "codes.yaml": "codes.schema.json"}


def _rule_files() -> list[tuple[Path, str]]:
    pack = packaged_rules_path()
    files = [(pack / name, schema) for name, schema in SCHEMA_OF.items()]
    files += [(path, "edits.schema.json") for path in sorted((pack / "edits").glob("*.yaml"))]
    files += [(path, "state.schema.json") for path in sorted((pack / "states").glob("*.yaml"))]
    examples = sorted((ROOT / "examples" / "states").glob("*.yaml"))
    files += [(path, "state.schema.json") for path in examples]
    return files


def _plain(value: Any) -> Any:
    """YAML dates as the ISO strings JSON Schema sees in an editor."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_in_sync_with_the_models(name: str) -> None:
    """A model change without `python -m claimedit.pack.schema` fails here."""
    committed = (schema_dir() / name).read_text(encoding="utf-8")
    assert committed == render(SCHEMAS[name]), f"rules/schema/{name} is stale: regenerate it"


@pytest.mark.parametrize(("path", "schema"), _rule_files(), ids=lambda item: str(item)[-40:])
def test_rule_file_names_its_schema_and_satisfies_it(path: Path, schema: str) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (path.parent / first.split("$schema=", 1)[1].strip()).resolve()
    # The pack may be installed (site-packages) while examples/ stays in the checkout: compare
    # what the comment points at by name and content, not by absolute path.
    assert target.name == schema and target.is_file(), f"{path.name} points at {target}"
    assert target.read_text(encoding="utf-8") == render(SCHEMAS[schema])
    document = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    jsonschema.validate(document, json.loads(target.read_text(encoding="utf-8")))


def test_schema_rejects_an_unknown_key_as_the_loader_does() -> None:
    """The schema is strict like the models: a misspelt key is flagged in the editor too."""
    schema = json.loads((schema_dir() / "codes.schema.json").read_text(encoding="utf-8"))
    entry = {"code": "G6001", "label": "x", "category": "igrt", "modifier_26": True,
             "modifier_tc": True, "source": "s", "modifer_tc": True}
    with pytest.raises(jsonschema.ValidationError, match="modifer_tc"):
        jsonschema.validate({"codes": [entry]}, schema)
