"""Fuzzing each reader and the rule-file loader: only the library's own errors come out.

Readers never raise: whatever the bytes, they yield records, some of them
:class:`~claimedit.results.ClaimError`. Good records around a damaged one survive. The rule-file
loader returns problems (``load_yaml``) or raises :class:`~claimedit.RulePackError`
(``load_pack``), nothing else.

Example counts are small so the suite stays fast; a long run sets them from the environment:

    CLAIMEDIT_FUZZ_EXAMPLES=20000 HYPOTHESIS_PROFILE=dev \
        python -m pytest tests/property/test_fuzz.py

(``docs/reliability.md`` keeps the figures of the last long run.)
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claimedit import RulePackError
from claimedit.claims import Claim, parse_claim
from claimedit.inputs import Record, read_csv, read_json, read_jsonl, read_records
from claimedit.pack import load_pack, packaged_rules_path
from claimedit.pack.yaml_source import load_yaml
from claimedit.results import ClaimError

DATA = Path(__file__).resolve().parents[1] / "data"
_LONG_RUN = int(os.environ.get("CLAIMEDIT_FUZZ_EXAMPLES", "0"))


def examples(count: int) -> Callable[[Any], Any]:
    """``count`` examples in the suite, or the long run's number when one is asked for."""
    return settings(max_examples=_LONG_RUN or count,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def _decided(records: Iterator[Record]) -> list[Claim | ClaimError]:
    """Every record through parse_claim, as the command line does; nothing may raise."""
    out = []
    for record in records:
        assert isinstance(record, Record)
        assert isinstance(record.number, int)
        item = record.data
        if not isinstance(item, ClaimError):
            item = parse_claim(item, source=record.source, record=record.number)
        if isinstance(item, ClaimError):
            str(item).encode("utf-8")  # printable, one line, encodable
            assert "\n" not in str(item)
            assert all(issue.type for issue in item.issues)
        out.append(item)
    return out


def _claim(n: int) -> dict[str, Any]:
    return {"claim_id": f"C{n}", "payer": "medicare",
            "lines": [{"code": "77385", "date_of_service": "2025-03-03"}]}


def _good_ids(items: list[Claim | ClaimError]) -> list[str]:
    return [item.claim_id for item in items if isinstance(item, Claim)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)


# --- JSON Lines --------------------------------------------------------------------------------

@examples(150)
@given(st.lists(st.binary(max_size=200), max_size=8))
@example([b'{"claim_id": "A", "lines": ' + b"[" * 3000 + b"]" * 3000 + b"}"])
@example([b'{"claim_id": ' + b"9" * 5000 + b"}", b"\xff\xfe", b'{"claim_id": "\\ud800"}'])
def test_json_lines_any_bytes(lines: list[bytes]) -> None:
    _decided(read_jsonl([line + b"\n" for line in lines], "f.jsonl"))


@examples(100)
@given(st.binary(max_size=300).filter(lambda b: b"\n" not in b), st.integers(0, 5))
def test_json_lines_good_records_around_a_bad_one_survive(bad: bytes, position: int) -> None:
    lines = [json.dumps(_claim(n)).encode() for n in range(5)]
    lines.insert(position, bad)
    items = _decided(read_jsonl([line + b"\n" for line in lines], "f.jsonl"))
    assert [i for i in _good_ids(items) if i.startswith("C") and i[1:].isdigit()
            and int(i[1:]) < 5][-5:] == [f"C{n}" for n in range(5)]


# --- JSON documents ----------------------------------------------------------------------------

@examples(150)
@given(st.binary(max_size=400), st.integers(1, 64))
@example(b"[" + b"[" * 5000, 7)
@example(b'["\\', 1)
def test_json_any_bytes_in_any_chunks(document: bytes, size: int) -> None:
    chunks = [document[i: i + size] for i in range(0, len(document), size)]
    _decided(read_json(chunks, "f.json"))


@examples(100)
@given(json_values, st.integers(0, 5), st.integers(1, 50))
def test_json_list_good_records_around_a_bad_one_survive(
    bad: Any, position: int, size: int
) -> None:
    elements = [json.dumps(_claim(n)) for n in range(5)]
    elements.insert(position, json.dumps(bad))
    document = ("[" + ",".join(elements) + "]").encode()
    chunks = [document[i: i + size] for i in range(0, len(document), size)]
    items = _decided(read_json(chunks, "f.json"))
    assert len(items) == 6
    assert [items[n] for n in range(6) if n != position] == \
        [Claim.model_validate(_claim(n)) for n in range(5)]


@examples(150)
@given(st.lists(json_values, max_size=6), st.integers(1, 40), st.booleans(), st.booleans())
def test_json_list_streaming_reads_what_json_loads_reads(
    items: list[Any], size: int, ascii_only: bool, pretty: bool
) -> None:
    """The streaming reader against the standard library on valid lists, cut anywhere."""
    document = json.dumps(items, ensure_ascii=ascii_only, indent=2 if pretty else None).encode()
    chunks = [document[i: i + size] for i in range(0, len(document), size)]
    records = list(read_json(chunks, "f.json"))
    assert [record.data for record in records] == json.loads(document)
    assert [record.number for record in records] == list(range(1, len(items) + 1))


@examples(100)
@given(st.binary(max_size=100).filter(lambda b: not set(b) & set(b'[]{}",\\')),
       st.integers(0, 5))
def test_json_list_resynchronises_after_a_damaged_element(bad: bytes, position: int) -> None:
    elements = [json.dumps(_claim(n)).encode() for n in range(5)]
    elements.insert(position, bad)
    items = _decided(read_json([b"[" + b",\n".join(elements) + b"]"], "f.json"))
    assert _good_ids(items)[-5:] == [f"C{n}" for n in range(5)] or \
        [f"C{n}" for n in range(5)] == [i for i in _good_ids(items) if i in
                                       {f"C{n}" for n in range(5)}]


# --- CSV ----------------------------------------------------------------------------------------

HEADER = b"claim_id,payer,code,date_of_service,units,modifiers\n"


@examples(150)
@given(st.lists(st.binary(max_size=120), max_size=8))
@example([b"A,medicare,77385,2025-03-03,\xc2\xb2,"])
@example([b'A,medicare,77385,2025-03-03,1,"' + b"x" * 140_000])
def test_csv_any_bytes(rows: list[bytes]) -> None:
    _decided(read_csv(io.BytesIO(HEADER + b"\n".join(rows)), "f.csv"))


@examples(100)
@given(st.binary(max_size=120).filter(lambda b: not set(b) & set(b'\r\n"')), st.integers(0, 5))
def test_csv_good_claims_around_a_bad_row_survive(bad: bytes, position: int) -> None:
    rows = [b"C%d,medicare,77385,2025-03-03,1," % n for n in range(5)]
    rows.insert(position, bad)
    items = _decided(read_csv(io.BytesIO(HEADER + b"\n".join(rows) + b"\n"), "f.csv"))
    ids = {f"C{n}" for n in range(5)}
    bad_id = bad.split(b",")[0].strip().decode("utf-8", "replace")
    # A bad row that names one of the good claims belongs to it; every other one survives.
    assert {i for i in _good_ids(items) if i in ids} >= ids - {bad_id}


# --- FHIR and X12 (readers of issue 10) ---------------------------------------------------------

_FHIR_SAMPLE = json.loads((DATA / "fhir_claim_professional.json").read_text("utf-8"))


def _mutate(document: Any, path: list[int], value: Any) -> Any:
    """Replace one node of ``document`` (chosen by ``path``) by ``value``."""
    if not path or not isinstance(document, dict | list) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = _mutate(document[key], path[1:], value)  # type: ignore[index]
    return copy


def _read(fmt: str, text: str) -> list[Claim | ClaimError]:
    if fmt == "fhir":  # the X12 reader needs no extra: pyx12 is for --validate only
        pytest.importorskip("fhir.resources")
    return _decided(read_records(io.StringIO(text), f"f.{fmt}", fmt))


@examples(60)
@given(st.lists(st.integers(0, 50), max_size=5), json_values)
@example([], {"resourceType": "Bundle", "type": "collection", "entry": 5})
@example([6], None)  # found by a long run: a Claim whose type is null
def test_fhir_any_damage_to_a_claim(path: list[int], value: Any) -> None:
    _read("fhir", json.dumps(_mutate(_FHIR_SAMPLE, path, value)))


_X12_SAMPLE = (DATA / "igrt_837p.x12").read_text("utf-8")


@examples(15)
@given(st.integers(0, 10_000), st.text(alphabet="*:~^ABCZ0123456789.-", max_size=12))
@example(2702, "0")  # found by this test: "HI" becomes "0HI" inside a claim
def test_x12_any_damage_to_an_element(position: int, text: str) -> None:
    position %= len(_X12_SAMPLE)
    _read("x12", _X12_SAMPLE[:position] + text + _X12_SAMPLE[position + len(text):])


# --- rule files ---------------------------------------------------------------------------------

@examples(200)
@given(st.text(max_size=300))
@example("a: &a [*a]\n")
@example("a: !!timestamp x\n")
@example("? [a, b]\n: 1\n")
def test_yaml_loader_any_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("yaml") / "codes.yaml"
    path.write_text(text, "utf-8", errors="surrogatepass")
    _, _, problems = load_yaml(path, "codes.yaml")
    for problem in problems:
        assert "\n" not in str(problem)


_PACK_FILES = sorted(p.relative_to(packaged_rules_path()).as_posix()
                     for p in packaged_rules_path().rglob("*.yaml"))


@examples(40)
@given(st.sampled_from(_PACK_FILES), st.integers(0, 100_000), st.integers(0, 40),
       st.text(max_size=30))
def test_load_pack_any_edit_of_a_rule_file(
    tmp_path_factory: pytest.TempPathFactory, name: str, position: int, cut: int, text: str
) -> None:
    root = tmp_path_factory.mktemp("pack") / "igrt"
    shutil.copytree(packaged_rules_path(), root)
    target = root / name
    original = target.read_text("utf-8")
    position %= len(original) + 1
    target.write_text(original[:position] + text + original[position + cut:], "utf-8",
                      errors="surrogatepass")
    try:
        load_pack(root)
    except RulePackError as exc:
        assert exc.problems
        assert all("\n" not in str(problem) for problem in exc.problems)
