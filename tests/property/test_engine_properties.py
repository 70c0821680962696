"""Properties every evaluation must have, whatever the claim: one decision per line in input
order, no dependence on the order of lines or of edits, the decision is the worst reason's,
unrelated lines change nothing, results survive JSON, and every entry point agrees.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from typing import Any

import pytest
import yaml
from _strategies import PAYERS, claims, dates, other_codes, universe
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import claimedit
from claimedit import Claim, ClaimError, ClaimResult, Decision, LineResult, parse_claim
from claimedit.pack import packaged_rules_path

WORLD = universe(claimedit.load_engine())
RANK = {Decision.ALLOW: 0, Decision.BUNDLE: 1, Decision.DENY: 2}
"""deny > bundle > allow, written here rather than read from the library under test."""


def _by_line_id(result: ClaimResult) -> dict[str | None, LineResult]:
    return {line.line_id: line for line in result.lines}


@settings(max_examples=200)
@given(claim=claims(WORLD, line_ids=False))
def test_one_decision_per_line_in_input_order(engine: claimedit.Engine,
                                              claim: dict[str, Any]) -> None:
    """Every valid line gets exactly one result with one decision, in the order of the input
    lines, echoing the line's code, modifiers and date of service (the line id is its position
    when the submitter gave none)."""
    result = engine.evaluate(claim)
    assert result.claim_id == claim["claim_id"] and result.payer == claim["payer"]
    assert len(result.lines) == len(claim["lines"])
    for position, (line, sent) in enumerate(zip(result.lines, claim["lines"], strict=True), 1):
        assert line.line_id == str(position)
        assert line.code == sent["code"]
        assert line.modifiers == tuple(sent["modifiers"])
        assert line.date_of_service == dt.date.fromisoformat(sent["date_of_service"])
        assert isinstance(line.decision, Decision)


@settings(max_examples=200)
@given(claim=claims(WORLD, min_lines=2), data=st.data())
def test_line_order_does_not_change_any_line_result(engine: claimedit.Engine,
                                                    claim: dict[str, Any],
                                                    data: st.DataObject) -> None:
    """Bundling looks at the other lines of the same date of service, not at which line came
    first: any permutation of the lines gives each line (by line id) the same result."""
    order = data.draw(st.permutations(range(len(claim["lines"]))))
    permuted = {**claim, "lines": [claim["lines"][i] for i in order]}
    assert _by_line_id(engine.evaluate(permuted)) == _by_line_id(engine.evaluate(claim))


@pytest.fixture(scope="module")
def shuffled_engines(tmp_path_factory: pytest.TempPathFactory) -> list[claimedit.Engine]:
    """Copies of the packaged pack with the edits of every edits file, the code-table entries and
    the load order of the edits files shuffled (rewritten as plain YAML)."""
    source = packaged_rules_path()
    engines = []
    for seed in range(4):
        rng = random.Random(seed)
        target = tmp_path_factory.mktemp(f"shuffled{seed}") / "igrt"
        shutil.copytree(source, target)
        codes_path = target / "codes.yaml"
        table = yaml.safe_load(codes_path.read_text("utf-8"))
        rng.shuffle(table["codes"])
        codes_path.write_text(yaml.safe_dump(table, sort_keys=False), "utf-8")
        files = sorted((target / "edits").glob("*.yaml"))
        names = [path.name for path in files]
        rng.shuffle(names)  # the file that loaded first may load last
        contents = []
        for path in files:
            data = yaml.safe_load(path.read_text("utf-8"))
            original = [edit["id"] for edit in data["edits"]]
            while len(original) > 1:
                rng.shuffle(data["edits"])
                if [edit["id"] for edit in data["edits"]] != original:
                    break
            contents.append(yaml.safe_dump(data, sort_keys=False))
            path.unlink()
        for name, text in zip(names, contents, strict=True):
            (target / "edits" / f"z-{name}").write_text(text, "utf-8")
        engines.append(claimedit.load_engine(target))
    return engines


@settings(max_examples=150)
@given(claim=claims(WORLD))
def test_edit_order_in_the_pack_does_not_change_any_line_result(
    engine: claimedit.Engine, shuffled_engines: list[claimedit.Engine], claim: dict[str, Any]
) -> None:
    """The pack is a set of edits, not a program: reordering edits, code-table entries or edits
    files changes no decision, no reason and no order of reasons (only the content hash)."""
    expected = engine.evaluate(claim).lines
    for shuffled in shuffled_engines:
        assert shuffled.provenance.content_hash != engine.provenance.content_hash
        assert shuffled.evaluate(claim).lines == expected


@settings(max_examples=300)
@given(claim=claims(WORLD))
def test_line_decision_is_its_most_severe_reason(engine: claimedit.Engine,
                                                 claim: dict[str, Any]) -> None:
    """deny > bundle > allow: a line's decision is the most severe of its reasons, and a line is
    allowed exactly when no reason denies or bundles it. Reasons are distinct edits, in a stable
    order (by rule id), each with its remittance codes."""
    result = engine.evaluate(claim)
    for line in result.lines:
        worst = max((reason.decision for reason in line.reasons), key=RANK.__getitem__,
                    default=Decision.ALLOW)
        assert line.decision is worst
        blocking = [r for r in line.reasons if r.decision in (Decision.DENY, Decision.BUNDLE)]
        assert (line.decision is Decision.ALLOW) == (not blocking)
        assert list(line.rule_ids) == sorted(set(line.rule_ids))
        for reason in line.reasons:
            assert reason.group_code in {"CO", "PR", "OA", "PI"}
            assert reason.carc and reason.citation and reason.source
    assert result.decision is max((line.decision for line in result.lines),
                                  key=RANK.__getitem__)


@settings(max_examples=200)
@given(claim=claims(WORLD, max_lines=7), data=st.data())
def test_a_code_outside_the_policy_changes_no_other_line(engine: claimedit.Engine,
                                                         claim: dict[str, Any],
                                                         data: st.DataObject) -> None:
    """Adding a line for a code no edit knows (an office visit, say), on a date another line
    already has, leaves every other line's result as it was; the new line is allowed untouched."""
    extra = {"line_id": "EXTRA", "code": data.draw(other_codes(WORLD.pack_codes)),
             "modifiers": data.draw(st.lists(st.sampled_from(["26", "TC", "59"]), max_size=2)),
             "date_of_service": data.draw(st.sampled_from(claim["lines"]))["date_of_service"]}
    at = data.draw(st.integers(0, len(claim["lines"])))
    bigger = {**claim, "lines": [*claim["lines"][:at], extra, *claim["lines"][at:]]}
    before, after = _by_line_id(engine.evaluate(claim)), _by_line_id(engine.evaluate(bigger))
    added = after.pop("EXTRA")
    assert after == before
    assert added.decision is Decision.ALLOW and added.reasons == ()


@settings(max_examples=200)
@given(claim=claims(WORLD, max_lines=7), data=st.data())
def test_a_line_on_another_date_changes_no_other_line(engine: claimedit.Engine,
                                                      claim: dict[str, Any],
                                                      data: st.DataObject) -> None:
    """Edits pair lines of the same date of service only: a line of any code billed on a date no
    other line has changes no other line's result."""
    taken = {line["date_of_service"] for line in claim["lines"]}
    day = data.draw(dates(WORLD)).isoformat()
    assume(day not in taken)
    extra = {"line_id": "EXTRA", "code": data.draw(st.sampled_from(WORLD.named_codes)),
             "modifiers": data.draw(st.lists(st.sampled_from(["26", "TC"]), max_size=1)),
             "date_of_service": day}
    at = data.draw(st.integers(0, len(claim["lines"])))
    bigger = {**claim, "lines": [*claim["lines"][:at], extra, *claim["lines"][at:]]}
    after = _by_line_id(engine.evaluate(bigger))
    after.pop("EXTRA")
    assert after == _by_line_id(engine.evaluate(claim))


_ID_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                   max_size=12).filter(lambda text: text.strip() == text and text != "")


@settings(max_examples=200)
@given(claim=claims(WORLD), claim_id=_ID_TEXT, line_id=_ID_TEXT)
def test_result_survives_a_json_round_trip(engine: claimedit.Engine, claim: dict[str, Any],
                                           claim_id: str, line_id: str) -> None:
    """ClaimResult.to_dict -> JSON text -> ClaimResult.from_dict gives back the same result
    (decisions as Decision, dates as dates, RARCs as tuples), whatever the claim and line ids
    (quotes, backslashes, accents); to_json is the same JSON as json.dumps(to_dict())."""
    claim = {**claim, "claim_id": claim_id,
             "lines": [{**claim["lines"][0], "line_id": line_id}, *claim["lines"][1:]]}
    result = engine.evaluate(claim)
    text = json.dumps(result.to_dict())
    back = ClaimResult.from_dict(json.loads(text))
    assert back == result
    assert all(isinstance(line.decision, Decision) and isinstance(line.date_of_service, dt.date)
               for line in back.lines)
    assert back.to_dict() == result.to_dict()
    assert result.to_json() == json.dumps(result.to_dict(), separators=(",", ":"))
    assert ClaimResult.from_dict(json.loads(result.to_json())) == result


@settings(max_examples=200)
@given(claim=claims(WORLD))
def test_every_way_of_passing_a_claim_gives_the_same_result(engine: claimedit.Engine,
                                                            claim: dict[str, Any]) -> None:
    """evaluate(dict) == evaluate(Claim model) == the JSON text of the claim through
    evaluate_many (the CLI's JSON Lines path): one evaluation path, whatever the input shape."""
    from_dict = engine.evaluate(claim)
    model = Claim.model_validate(claim)
    assert engine.evaluate(model) == from_dict
    parsed = parse_claim(json.dumps(claim))
    assert not isinstance(parsed, ClaimError) and parsed == model
    [from_json] = engine.evaluate_many([json.dumps(claim)])
    assert from_json == from_dict


@settings(max_examples=200)
@given(claim=claims(WORLD))
def test_evaluate_line_with_same_day_codes_equals_the_claim(engine: claimedit.Engine,
                                                            claim: dict[str, Any]) -> None:
    """evaluate_line, given the codes of the claim's other lines with the same date of service,
    decides each line exactly as evaluating the whole claim does."""
    result = engine.evaluate(claim)
    for position, line in enumerate(claim["lines"]):
        same_day = [other["code"] for i, other in enumerate(claim["lines"])
                    if i != position and other["date_of_service"] == line["date_of_service"]]
        alone = engine.evaluate_line(line, payer=claim["payer"], same_day_codes=same_day,
                                     state=claim.get("state"), claim_type=claim["claim_type"])
        assert alone == result.lines[position]


@settings(max_examples=100)
@given(batch=st.lists(claims(WORLD), min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_results_do_not_depend_on_what_the_engine_saw_before(engine: claimedit.Engine,
                                                             batch: list[dict[str, Any]],
                                                             seed: int) -> None:
    """A fresh engine fed the batch in one order and another fed it in a shuffled order (with
    evaluate_many) agree on every claim: nothing an engine remembers between claims (caches,
    memos) can change a decision."""
    first, second = claimedit.Engine(engine.pack), claimedit.Engine(engine.pack)
    numbered = [{**claim, "claim_id": f"B{n}"} for n, claim in enumerate(batch)]
    shuffled = numbered[:]
    random.Random(seed).shuffle(shuffled)
    forward = {r.claim_id: r for r in first.evaluate_many(numbered)}
    backward = {r.claim_id: r for r in second.evaluate_many(shuffled)}
    assert forward == backward
    again = {r.claim_id: r for r in first.evaluate_many(shuffled)}
    assert again == forward


@settings(max_examples=100)
@given(claim=claims(WORLD), payer=st.sampled_from(PAYERS))
def test_payer_spelling_does_not_change_results(engine: claimedit.Engine, claim: dict[str, Any],
                                                payer: str) -> None:
    """The payer type is read whatever its case and padding; results are identical."""
    clean = {**claim, "payer": payer}
    messy = {**claim, "payer": f"  {payer.upper()} "}
    assert engine.evaluate(messy) == engine.evaluate(clean)
