"""CMS NCCI at full scale: read the quarterly PTP and MUE files as CMS publishes them, store
them as compact memory-mapped tables, and write a rule pack that uses them.

    claimedit ncci import --setting practitioner --ptp ccipra-v302r0-f*.zip \\
        --mue medicare-ncci-2024-q3-practitioner-services-mue-table.zip --out packs/ncci

Modules: :mod:`~claimedit.ncci.readers` (the CMS layouts), :mod:`~claimedit.ncci.sources`
(files, zip archives, quarters), :mod:`~claimedit.ncci.table` (the table files),
:mod:`~claimedit.ncci.importer` (the pack), :mod:`~claimedit.ncci.synthetic` (made-up tables in
the CMS layouts, for tests and the benchmark).

Example:
    >>> from claimedit.ncci import PtpTable, import_ncci
    >>> PtpTable.__name__
    'PtpTable'
"""

from claimedit.ncci.importer import ImportReport, NcciImportError, import_ncci
from claimedit.ncci.readers import RowProblem, read_mue, read_ptp
from claimedit.ncci.table import MueLimit, MueTable, PairRow, PtpTable, TableFileError

__all__ = [
    "ImportReport",
    "MueLimit",
    "MueTable",
    "NcciImportError",
    "PairRow",
    "PtpTable",
    "RowProblem",
    "TableFileError",
    "import_ncci",
    "read_mue",
    "read_ptp",
]
