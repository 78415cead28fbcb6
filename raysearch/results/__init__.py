"""Results: the files a search leaves (parquet tables, best config, summary), the
comparison report across runs (``python -m raysearch.compare``) and its plots."""

from raysearch.results.compare import REPORT, compare_runs, default_out_dir
from raysearch.results.files import BEST_CONFIG, EPOCHS, METADATA, SUMMARY_JSON, SUMMARY_MD, TRIALS
from raysearch.results.runs import RunData, load_run, load_runs
from raysearch.results.summary import summarize, write_results

__all__ = [
    "BEST_CONFIG",
    "EPOCHS",
    "METADATA",
    "REPORT",
    "SUMMARY_JSON",
    "SUMMARY_MD",
    "TRIALS",
    "RunData",
    "compare_runs",
    "default_out_dir",
    "load_run",
    "load_runs",
    "summarize",
    "write_results",
]
