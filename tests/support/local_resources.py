"""Folders for dataset jobs on the local backend (shared by the backend, CLI and reference CLI tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATASET_TEXT = "from dataset\n"
BUCKET_TEXT = "from bucket\n"


@dataclass(frozen=True)
class DatasetJobFolders:
    """`source` (to become a dataset: `a.txt`), `bucket` (an S3 folder: `in.txt`), `project` (the job's)."""

    source: Path
    bucket: Path
    project: Path


def dataset_job_folders(root: Path) -> DatasetJobFolders:
    """The three folders under `root`: `source/a.txt` = DATASET_TEXT, `bucket/in.txt` = BUCKET_TEXT."""
    folders = DatasetJobFolders(root / "source", root / "bucket", root / "project")
    for folder in (folders.source, folders.bucket, folders.project):
        folder.mkdir(parents=True)
    (folders.source / "a.txt").write_text(DATASET_TEXT)
    (folders.bucket / "in.txt").write_text(BUCKET_TEXT)
    return folders
