"""Claim history test helpers: a store of each kind, claims, and the "truth" a history must reach.

PostgreSQL is real: tests that need it run when ``CLAIMEDIT_TEST_POSTGRES_URL`` names a server
(``.ci/run`` starts PostgreSQL and sets it); otherwise they are skipped, saying why. Each test
gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import claimedit
from claimedit import ClaimResult, Decision
from claimedit.history import HistoryStore, MemoryHistory, SqliteHistory, StoredClaim

POSTGRES_URL = os.environ.get("CLAIMEDIT_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="no PostgreSQL server: set CLAIMEDIT_TEST_POSTGRES_URL=postgresql://... (.ci/run "
           "starts one and sets it)",
)
STORE_KINDS = ["memory", "sqlite", pytest.param("postgres", marks=needs_postgres)]
FILE_STORE_KINDS = ["sqlite", pytest.param("postgres", marks=needs_postgres)]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema (dropped after the test)."""
    import psycopg

    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


def location(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a store of ``kind`` lives for this test (a file, a URL, or ``:memory:``)."""
    if kind == "memory":
        return ":memory:"
    if kind == "sqlite":
        return str(tmp_path / "history.sqlite")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    """A fresh, empty store of each kind."""
    opened = claimedit.open_history(location(request.param, tmp_path, request))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(params=FILE_STORE_KINDS)
def shared_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The location of a store several threads or processes can share: SQLite, PostgreSQL."""
    return location(request.param, tmp_path, request)


def claim(
    claim_id: str, *lines: tuple[str, str], patient: str | None = "P1",
    provider: str | None = "1234567893", frequency: str = "1", payer: str = "commercial",
) -> dict[str, Any]:
    """A claim of lines ``("G6001-TC", "2025-03-03")``."""
    data: dict[str, Any] = {
        "claim_id": claim_id, "payer": payer, "frequency_code": frequency,
        "lines": [{"line_id": str(n), "code": billed.split("-")[0],
                   "modifiers": billed.split("-")[1:], "date_of_service": day}
                  for n, (billed, day) in enumerate(lines, start=1)],
    }
    if patient is not None:
        data["patient_id"] = patient
    if provider is not None:
        data["provider_id"] = provider
    return data


def decisions(result: ClaimResult) -> list[str]:
    return [line.decision.value for line in result.lines]


def adjusted(result: ClaimResult) -> list[tuple[str, str, str]]:
    return [(a.claim_id, a.line_id, a.decision.value) for a in result.adjustments]


# The codes that meet in the pack's same-day edits (IMRT, the IGRT G-codes, 77387, 77014), a
# code no edit watches, and the modifiers that matter.
_BILLED = ["77385", "77386", "G6001-TC", "G6002-TC", "G6001-26", "G6002", "77387-TC", "77014-TC",
           "77387", "99213", "G6017"]
_DAYS = ["2025-03-03", "2025-03-04"]


def random_sequence(seed: int, count: int, patients: int = 2) -> list[dict[str, Any]]:
    """Claims from one provider for a few patients over two days: originals, resends of the same
    claim id, replacements with other lines, and voids."""
    rng = random.Random(seed)
    sent: dict[str, dict[str, Any]] = {}
    claims = []
    for number in range(count):
        roll = rng.random()
        if sent and roll < 0.15:  # void an earlier claim
            earlier = sent.pop(rng.choice(sorted(sent)))
            claims.append({**earlier, "frequency_code": "8"})
            continue
        if sent and roll < 0.3:  # replace, or resend, an earlier claim
            claim_id = rng.choice(sorted(sent))
            frequency = rng.choice(["7", "1"])
        else:
            claim_id, frequency = f"C{number}", "1"
        lines = [(rng.choice(_BILLED), rng.choice(_DAYS)) for _ in range(rng.randint(1, 3))]
        made = claim(claim_id, *lines, patient=f"P{rng.randrange(patients)}",
                     frequency=frequency, payer=rng.choice(["commercial", "medicaid"]))
        if claim_id in sent:
            made["payer"] = sent[claim_id]["payer"]
        sent[claim_id] = made
        claims.append(made)
    return claims


def truth(engine: claimedit.Engine, stored: list[StoredClaim]) -> dict[tuple[str, str], Decision]:
    """Each stored line's decision as if the patient's claims at the provider had been one
    claim: the state any order of arrival must end in. (Within one claim, the engine has always
    treated the other lines of the day as billed that day; history must do the same across
    claims.)"""
    found = {}
    for mine in stored:
        merged = [{"code": line.code, "modifiers": line.modifiers, "units": line.units,
                   "date_of_service": line.date_of_service} for line in mine.lines]
        for other in stored:
            if other is not mine and (other.patient_id, other.provider_id) == (
                    mine.patient_id, mine.provider_id):
                merged += [{"code": line.code, "modifiers": line.modifiers,
                            "date_of_service": line.date_of_service} for line in other.lines]
        result = engine.evaluate({"claim_id": mine.claim_id, "payer": mine.payer,
                                  "state": mine.state, "lines": merged})
        for line, decided in zip(mine.lines, result.lines, strict=False):
            found[mine.claim_id, line.line_id] = decided.decision
    return found


def everything(store: HistoryStore, patients: list[str]) -> list[StoredClaim]:
    return [found for patient in patients for found in store.claims_of(patient)]


__all__ = [
    "FILE_STORE_KINDS", "STORE_KINDS", "MemoryHistory", "SqliteHistory", "adjusted", "claim",
    "decisions", "everything", "location", "needs_postgres", "random_sequence", "truth",
]
