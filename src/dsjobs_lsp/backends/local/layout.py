"""Where the local backend keeps its state inside its data dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LOCAL_PROJECT_ID = "localproject00000000"
LOCAL_COMMUNITY_ID = "localcommunity000000"
DATA_DIR_ENV = "DSJOBS_LOCAL_DATA_DIR"
OFFLINE_ENV = "DSJOBS_LOCAL_OFFLINE"


def default_data_dir() -> Path:
    """``$DSJOBS_LOCAL_DATA_DIR`` or ``~/.local/share/dsjobs/local-backend``."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "dsjobs" / "local-backend"


@dataclass(frozen=True)
class DataLayout:
    """Paths of one data dir."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "state.sqlite3"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"

    @property
    def envs(self) -> Path:
        return self.root / "envs"

    @property
    def projects(self) -> Path:
        return self.root / "projects"

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    @property
    def signing_key_file(self) -> Path:
        return self.root / "signing.key"

    @property
    def server_info(self) -> Path:
        return self.root / "server.json"

    @property
    def launch_lock(self) -> Path:
        return self.root / "launch.lock"

    @property
    def server_lock(self) -> Path:
        """Held (``flock``) by the one server of this data dir while it runs."""
        return self.root / "server.lock"

    @property
    def server_log(self) -> Path:
        return self.root / "server.log"

    def job_dir(self, job_id: str) -> Path:
        """Everything of one job: ``work/`` (its cwd), ``journal.bin``, exit/pid files, outputs scratch."""
        return self.jobs / job_id

    def create_root(self) -> None:
        """Create the data dir, private to the user (0700, also when it existed with a wider mode)."""
        _private_dir(self.root)

    def create(self) -> None:
        """Create the directories, private to the user (0700, also when they existed with a wider mode)."""
        for path in (self.root, self.blobs, self.jobs, self.envs, self.projects):
            _private_dir(path)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
