"""Case files get editor support like rule files: each names ``tests.schema.json`` on its first
line and satisfies it (the committed schema itself is checked by ``test_schema.py``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from claimedit.pack.schema import SCHEMAS, render
from claimedit.policy_tests import case_files, packaged_packs

CASE_FILES = [path for pack in packaged_packs().values() for path in case_files(pack)]


def _plain(value: Any) -> Any:
    """YAML dates as the ISO strings an editor's JSON Schema check sees."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_case_file_names_its_schema_and_satisfies_it(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schema/tests.schema.json"
    target = (path.parent / "../../schema/tests.schema.json").resolve()
    assert target.read_text(encoding="utf-8") == render(SCHEMAS["tests.schema.json"])
    document = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
    jsonschema.validate(document, json.loads(target.read_text(encoding="utf-8")))


def test_the_schema_flags_a_misspelt_key_as_the_runner_does() -> None:
    schema = json.loads(render(SCHEMAS["tests.schema.json"]))
    case = {"name": "a", "payer": "medicare", "date": "2025-06-02",
            "lines": [{"code": "77387", "expect": {"decision": "deny", "fire": True}}]}
    with pytest.raises(jsonschema.ValidationError, match="fire"):
        jsonschema.validate({"cases": [case]}, schema)
