"""Archive-scale analysis on Dask distributed (``dynaspine batch``).

:func:`run_batch` analyses many studies (from :func:`scan_tree` or :func:`read_manifest`) on
a local Dask cluster or an existing one, skips studies already analysed with the same inputs
(:func:`inputs_hash`) and dynaspine version, records every finished study in an append-only
JSON-lines :class:`Ledger`, and writes results atomically into a results folder or the
store. See ``docs/batch.md``.
"""

from dynaspine.batch._hash import HASH_MODES, HashMode, inputs_hash
from dynaspine.batch._ledger import FolderSink, Ledger, StoreSink, write_atomic
from dynaspine.batch._pacs import fetch_study, pick_input, query_pacs
from dynaspine.batch._run import BatchSummary, open_client, run_batch
from dynaspine.batch._specs import (
    StudySpec,
    find_study_input,
    read_manifest,
    scan_tree,
    scan_tree_lenient,
)
from dynaspine.batch._work import analyze_task, hash_task

__all__ = [
    "HASH_MODES",
    "BatchSummary",
    "FolderSink",
    "HashMode",
    "Ledger",
    "StoreSink",
    "StudySpec",
    "analyze_task",
    "fetch_study",
    "find_study_input",
    "hash_task",
    "inputs_hash",
    "open_client",
    "pick_input",
    "query_pacs",
    "read_manifest",
    "run_batch",
    "scan_tree",
    "scan_tree_lenient",
    "write_atomic",
]
