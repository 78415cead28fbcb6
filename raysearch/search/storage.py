"""Where Ray Tune keeps a search's experiment (``--storage``): the URIs and paths it can
use (``storage_problem``) and the directory on this machine one names (``local_storage``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

__all__ = ["STORAGE_SCHEMES", "local_storage", "storage_problem"]


# The URI schemes Ray Tune's storage takes (through pyarrow's file systems).
STORAGE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss", "file")


def storage_problem(storage: str) -> str | None:
    """Why Ray Tune could not keep its experiment at ``storage`` (None: it can): a URI with
    a scheme pyarrow lacks, or a relative path, which each node would read from its own
    working directory."""
    scheme = urlparse(storage).scheme
    if len(scheme) > 1 and scheme not in STORAGE_SCHEMES:  # one letter: a Windows drive
        return (
            f"Ray Tune keeps its experiment on {', '.join(STORAGE_SCHEMES)} URIs or an "
            f"absolute path, got {storage!r}"
        )
    if not scheme and not Path(storage).is_absolute():
        return (
            "a shared path must be absolute (each node reads it from its own working "
            f"directory), got {storage!r}"
        )
    return None


def local_storage(storage: str) -> Path | None:
    """The directory a --storage on this machine's file system names (a path, or a file://
    URI), or None: a URI of another file system (s3://, gs://, ...)."""
    parsed = urlparse(storage)
    if parsed.scheme == "file":
        return Path(parsed.path)
    return Path(storage) if len(parsed.scheme) <= 1 else None  # one letter: a Windows drive
