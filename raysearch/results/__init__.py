"""Results: the files a search leaves (parquet tables, best config, summary) and reports."""

from raysearch.results.files import BEST_CONFIG, EPOCHS, METADATA, SUMMARY_JSON, SUMMARY_MD, TRIALS
from raysearch.results.summary import summarize, write_results

__all__ = [
    "BEST_CONFIG",
    "EPOCHS",
    "METADATA",
    "SUMMARY_JSON",
    "SUMMARY_MD",
    "TRIALS",
    "summarize",
    "write_results",
]
