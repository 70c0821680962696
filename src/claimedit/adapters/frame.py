"""Dataframes: evaluate a table of claim lines into the same table with the results beside each
line (the ``frame`` extra: pandas and pyarrow).

One row is one claim line; rows are grouped into claims by ``claim_id`` (a claim's rows need
not be next to each other within one table). Input columns, matched case-insensitively, the same
as the CSV reader's:

==================  ===========================================================================
``claim_id``        required
``payer``           required: medicare, medicaid or commercial (the claim's first row counts;
                    rows of one claim must agree)
``state``           optional two-letter state (likewise)
``line_id``         optional; results use the line's position in the claim when absent
``code``            required: CPT/HCPCS code
``modifiers``       optional: a list, or a string (``"26"``, ``"26,59"``); or ``modifier1..4``
``date_of_service`` required: a date, a midnight timestamp, or ``YYYY-MM-DD``
``units``           optional, default 1
``charge``          optional: the line's billed charge (a decimal, a string or a float)
``claim_type``,     optional claim fields, as in CSV (rows of one claim must agree; a null is
``patient_id``,     the model's default): professional / institutional, the patient and
``provider_id``,    billing provider ids, the frequency code (1 original, 7 replacement,
``frequency_code``  8 void)
==================  ===========================================================================

Result columns, added in input row order (replacing columns of the same name, so a table can be
evaluated again after the rules change):

==============  ===============================================================================
``decision``    allow, bundle or deny; null when the row's claim could not be evaluated
``rule_ids``    list of the ids of every edit that fired, sorted by rule id
``group_code``  group code of the deciding reason (the first whose decision is the line's); null
                when allowed
``carc``        CARC of the deciding reason
``rarcs``       list of the remark codes of every reason, without repeats
``error``       null, or why the row's claim was not evaluated (``row 4 code: ...``, rows are
                0-based positions in the input); every row of that claim carries it
==============  ===============================================================================

For batch engines: :func:`evaluate_batches` takes a stream of Arrow record batches (Spark's
``mapInArrow``) whose claims are contiguous; :func:`result_schema` gives the output schema.
The engine pickles (it ships its validated rule pack and recompiles), so it travels to worker
processes as is. Recipes for Dask and Spark are in ``docs/interoperability.md``.

Example:
    >>> import claimedit, pandas as pd
    >>> lines = pd.DataFrame({
    ...     "claim_id": ["C1", "C2", "C1"], "payer": ["commercial", "medicare", "commercial"],
    ...     "code": ["77385", "77387", "G6001"], "modifiers": ["", "", "TC"],
    ...     "date_of_service": ["2025-03-04", "2025-06-02", "2025-03-04"]})
    >>> out = evaluate_frame(claimedit.load_engine(), lines)
    >>> out[["claim_id", "code", "decision", "carc"]].values.tolist()
    [['C1', '77385', 'allow', None], ['C2', '77387', 'deny', '96'], ['C1', 'G6001', 'bundle', '97']]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any, Literal, TypeVar

from claimedit.adapters import MissingExtraError
from claimedit.engine import Engine
from claimedit.history.store import HistoryStore
from claimedit.inputs import _MODIFIER_SEPARATORS
from claimedit.limits import quote
from claimedit.results import ClaimError, ClaimResult, Decision

try:
    # Stubs for these (pandas-stubs, pyarrow-stubs) may or may not be installed.
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]
    import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("frame", "dataframe support (claimedit.adapters.frame)", exc) from exc

__all__ = [
    "RESULT_COLUMNS",
    "evaluate_arrow",
    "evaluate_batches",
    "evaluate_frame",
    "result_schema",
]

RESULT_COLUMNS: Mapping[str, pa.DataType] = {
    "decision": pa.string(),
    "rule_ids": pa.list_(pa.string()),
    "group_code": pa.string(),
    "carc": pa.string(),
    "rarcs": pa.list_(pa.string()),
    "error": pa.string(),
}
"""The result columns and their Arrow types, in the order they are added."""

_REQUIRED = ("claim_id", "payer", "code", "date_of_service")
_OPTIONAL = ("state", "line_id", "modifiers", "units", "charge",
             "modifier1", "modifier2", "modifier3", "modifier4",
             "claim_type", "patient_id", "provider_id", "frequency_code")
# Claim fields a claim's rows must agree on; the optional ones are passed only when given.
_CLAIM_FIELDS = ("payer", "state", "claim_type", "patient_id", "provider_id", "frequency_code")

ArrowData = TypeVar("ArrowData", "pa.Table", "pa.RecordBatch")


def evaluate_frame(
    engine: Engine, frame: pd.DataFrame, *, dtypes: Literal["object", "arrow"] = "object",
    history: HistoryStore | None = None,
) -> pd.DataFrame:
    """Evaluate a pandas DataFrame of claim lines; returns a copy with the result columns.
    With ``history``, claims are judged with the patient's earlier claims and recorded
    (``docs/history.md``; the columns ``patient_id``, ``provider_id``, ``frequency_code``).

    ``dtypes="object"`` (the default) gives Python objects in the result columns (lists stay
    lists, nulls are None); ``dtypes="arrow"`` gives pandas Arrow-backed columns typed as
    :data:`RESULT_COLUMNS` (nulls are ``pd.NA``), which is what Dask needs to write Parquet:
    the Dask recipe in ``docs/interoperability.md`` uses it.

    Raises ``ValueError`` when a required column is missing (a mistake in the call, not in the
    data); a row whose claim is invalid gets an ``error`` instead.

    Example:
        >>> import claimedit, pandas as pd
        >>> out = evaluate_frame(claimedit.load_engine(), pd.DataFrame({
        ...     "claim_id": ["C9"], "payer": ["tricare"], "code": ["77387"],
        ...     "date_of_service": ["2025-06-02"]}))
        >>> out.loc[0, "error"]
        "payer: 'tricare': Input should be 'medicare', 'medicaid' or 'commercial'"
        >>> str(evaluate_frame(claimedit.load_engine(), out, dtypes="arrow")["rule_ids"].dtype)
        'list<item: string>[pyarrow]'
    """
    if dtypes not in ("object", "arrow"):
        raise ValueError(f"dtypes must be 'object' or 'arrow', not {dtypes!r}")
    names = _columns(frame.columns)
    columns = {
        key: frame[name].astype(object).where(frame[name].notna(), None).tolist()
        for key, name in names.items()
    }
    results = _evaluate(engine, columns, len(frame), history=history)
    out = frame.drop(columns=[c for c in frame.columns if c in RESULT_COLUMNS])
    for name, values in results.items():
        if dtypes == "arrow":
            array = pd.arrays.ArrowExtensionArray(pa.array(values, type=RESULT_COLUMNS[name]))
            out[name] = pd.Series(array, index=frame.index)
        else:
            # Python objects, as Arrow's to_pylist would give: lists stay lists, nulls None.
            out[name] = pd.Series(values, index=frame.index, dtype=object)
    return out


def evaluate_arrow(
    engine: Engine, data: ArrowData, *, history: HistoryStore | None = None
) -> ArrowData:
    """Evaluate a pyarrow Table or RecordBatch of claim lines; returns the same kind with the
    result columns appended (typed as in :data:`RESULT_COLUMNS`). ``history`` as in
    :func:`evaluate_frame`.

    Example:
        >>> import claimedit, pyarrow as pa
        >>> table = pa.table({"claim_id": ["C1"], "payer": ["medicare"], "code": ["77387"],
        ...                   "date_of_service": ["2025-06-02"]})
        >>> evaluate_arrow(claimedit.load_engine(), table).column("rule_ids").to_pylist()
        [['IGRT-MEDICARE-77387']]
    """
    return _with_results(engine, data, set(), history)


def result_schema(schema: pa.Schema) -> pa.Schema:
    """The schema :func:`evaluate_arrow` and :func:`evaluate_batches` return for ``schema``.

    Example:
        >>> result_schema(pa.schema([("claim_id", pa.string())])).names
        ['claim_id', 'decision', 'rule_ids', 'group_code', 'carc', 'rarcs', 'error']
    """
    fields = [field for field in schema if field.name not in RESULT_COLUMNS]
    fields += [pa.field(name, kind) for name, kind in RESULT_COLUMNS.items()]
    return pa.schema(fields, metadata=schema.metadata)


def evaluate_batches(
    engine: Engine, batches: Iterable[pa.RecordBatch], *, history: HistoryStore | None = None
) -> Iterator[pa.RecordBatch]:
    """Evaluate a stream of record batches whose claims are contiguous (sorted by claim id),
    holding back the last claim of each batch until its rows end: a claim cut by a batch
    boundary is evaluated whole. Rows come out in input order, re-cut into batches.

    A claim whose rows reappear after a later claim was read gets an ``error`` on those rows
    (sort or partition by ``claim_id`` first). Memory holds one batch of rows, not the whole
    stream, plus the ids of the claims already evaluated (to name a claim whose rows reappear):
    that set grows with the number of claims, about 100 bytes a claim.

    Example:
        >>> import claimedit, pyarrow as pa
        >>> table = pa.table({"claim_id": ["C1", "C1"], "payer": ["medicaid"] * 2,
        ...     "code": ["77385", "77387"], "date_of_service": ["2025-06-09"] * 2})
        >>> out = pa.Table.from_batches(evaluate_batches(claimedit.load_engine(),
        ...                                              table.to_batches(max_chunksize=1)))
        >>> out.column("decision").to_pylist()
        ['allow', 'bundle']
    """
    carry: pa.Table | None = None
    done: set[Any] = set()
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if carry is not None:
            table = pa.concat_tables([carry, table])
        if table.num_rows == 0:
            continue
        ids = table.column(_columns(table.schema.names)["claim_id"]).to_pylist()
        cut = len(ids)
        while cut > 0 and ids[cut - 1] == ids[-1]:
            cut -= 1
        carry = table.slice(cut)
        if cut:
            yield from _with_results(engine, table.slice(0, cut), done, history).to_batches()
    if carry is not None and carry.num_rows:
        yield from _with_results(engine, carry, done, history).to_batches()


def _with_results(
    engine: Engine, data: ArrowData, done: set[Any], history: HistoryStore | None = None
) -> ArrowData:
    """``data`` with the result columns, evaluated once; ``done`` holds the claim ids evaluated
    in earlier batches, and gains this batch's."""
    names = _columns(data.schema.names)
    columns = {key: data.column(name).to_pylist() for key, name in names.items()}
    results = _evaluate(engine, columns, data.num_rows, done, history)
    done.update(columns["claim_id"])
    keep = [name for name in data.schema.names if name not in RESULT_COLUMNS]
    arrays = [data.column(name) for name in keep]
    arrays += [pa.array(values, type=RESULT_COLUMNS[name]) for name, values in results.items()]
    schema = result_schema(data.schema)
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(arrays, schema=schema)
    return pa.Table.from_arrays(arrays, schema=schema)


def _columns(names: Iterable[Any]) -> dict[str, str]:
    """Input column key -> the table's column name (matched case-insensitively)."""
    found: dict[str, str] = {}
    for name in names:
        key = str(name).strip().lower()
        if key in _REQUIRED or key in _OPTIONAL:
            found.setdefault(key, name)
    missing = [key for key in _REQUIRED if key not in found]
    if missing:
        raise ValueError(f"the table lacks the column(s) {', '.join(missing)}: a table of claim "
                         f"lines needs {', '.join(_REQUIRED)}")
    return found


def _evaluate(
    engine: Engine, columns: Mapping[str, Sequence[Any]], rows: int,
    done: AbstractSet[Any] = frozenset(), history: HistoryStore | None = None,
) -> dict[str, list[Any]]:
    """The result columns for ``rows`` rows given as Python lists, one per input column."""
    out: dict[str, list[Any]] = {name: [None] * rows for name in RESULT_COLUMNS}
    claims: dict[Any, list[int]] = {}
    for row, claim_id in enumerate(columns["claim_id"]):
        if claim_id is None:
            out["error"][row] = f"row {row} claim_id: missing"
        elif claim_id in done:
            out["error"][row] = (f"row {row}: rows of claim {claim_id} are not contiguous: sort "
                                 "or partition the lines by claim_id")
        else:
            claims.setdefault(claim_id, []).append(row)

    groups = []
    data = []
    for claim_id, group in claims.items():
        claim = _claim(columns, claim_id, group)
        if isinstance(claim, str):
            for row in group:
                out["error"][row] = claim
        else:
            groups.append(group)
            data.append(claim)
    evaluated = engine.evaluate_many(data, errors="collect", history=history)
    for group, item in zip(groups, evaluated, strict=True):
        if isinstance(item, ClaimError):
            message = _message(item, group)
            for row in group:
                out["error"][row] = message
        else:
            _fill(out, item, group)
    return out


def _claim(
    columns: Mapping[str, Sequence[Any]], claim_id: Any, rows: list[int],
) -> dict[str, Any] | str:
    """The claim dict of a claim's rows, or why the rows make no single claim."""
    first = rows[0]
    claim: dict[str, Any] = {"claim_id": str(claim_id)}
    for key in _CLAIM_FIELDS:
        if key in columns:
            value = columns[key][first]
            other = next((row for row in rows if columns[key][row] != value), None)
            if other is not None:
                if key == "patient_id":  # a patient identifier is never repeated in a message
                    return (f"row {other} {key}: differs from row {first} of the same claim "
                            f"{claim_id}")
                return (f"row {other} {key}: {quote(columns[key][other])} differs from "
                        f"{quote(value)} in row {first} of the same claim {claim_id}")
            if value is not None or key == "payer":  # an empty optional cell: the default
                claim[key] = value
    lines = []
    for row in rows:
        line: dict[str, Any] = {"code": columns["code"][row],
                                "date_of_service": _day(columns["date_of_service"][row])}
        if columns.get("line_id") is not None and columns["line_id"][row] is not None:
            line["line_id"] = columns["line_id"][row]
        modifiers = _modifiers(columns, row)
        if modifiers:
            line["modifiers"] = modifiers
        units = columns["units"][row] if "units" in columns else None
        if units is not None:
            line["units"] = int(units) if isinstance(units, float) and units.is_integer() else units
        charge = columns["charge"][row] if "charge" in columns else None
        if charge is not None:
            # A float column's 850.1 is the decimal 850.1, not its binary expansion.
            line["charge"] = Decimal(repr(charge)) if isinstance(charge, float) else charge
        lines.append(line)
    claim["lines"] = lines
    return claim


def _day(value: Any) -> Any:
    # Dataframes hold dates as midnight timestamps (datetime64); a real time of day is left for
    # the claim model to reject: it means a timestamp column was mapped to the date of service.
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _modifiers(columns: Mapping[str, Sequence[Any]], row: int) -> Any:
    value = columns["modifiers"][row] if "modifiers" in columns else None
    if value is None:
        value = [columns[f"modifier{n}"][row] for n in range(1, 5) if f"modifier{n}" in columns]
        value = [m for m in value if m is not None and str(m).strip()]
    elif isinstance(value, str):
        value = [part for part in _MODIFIER_SEPARATORS.split(value) if part]
    else:
        value = list(value)  # a list, tuple or numpy array of modifiers
    return value


def _message(error: ClaimError, rows: list[int]) -> str:
    parts = []
    for issue in error.issues:
        steps = issue.field.split(".")
        if steps[0] == "lines" and len(steps) > 1 and steps[1].isdigit():
            field = " ".join(steps[2:3])
            where = f"row {rows[int(steps[1])]}" + (f" {field}" if field else "")
        else:
            where = issue.field
        parts.append(f"{where}: {issue.reason}" if where else issue.reason)
    return "; ".join(parts)


def _fill(out: dict[str, list[Any]], result: ClaimResult, rows: list[int]) -> None:
    for row, line in zip(rows, result.lines, strict=True):
        out["decision"][row] = line.decision.value
        out["rule_ids"][row] = list(line.rule_ids)
        out["rarcs"][row] = list(dict.fromkeys(r for reason in line.reasons for r in reason.rarcs))
        if line.decision is not Decision.ALLOW:
            deciding = next(r for r in line.reasons if r.decision is line.decision)
            out["group_code"][row] = deciding.group_code
            out["carc"][row] = deciding.carc
