"""`dsjobs --sa-key FILE` and `YC_SA_KEY_FILE`: the cloud backend authenticates with that key file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.local_backend import isolated_env

DSJOBS = [sys.executable, "-m", "dsjobs_lsp.cli.main"]
LIST = ["--backend", "cloud", "project", "job", "list", "-p", "abcdefghij0123456789"]


def _dsjobs(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DSJOBS, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_sa_key_option_and_env_var_choose_the_key_file(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    from_option = _dsjobs(["--sa-key", "key-from-option.json", *LIST], env, tmp_path)
    from_env = _dsjobs(LIST, {**env, "YC_SA_KEY_FILE": str(tmp_path / "key-from-env.json")}, tmp_path)

    assert from_option.returncode == 1, from_option.stderr
    assert "cannot read the service account key file key-from-option.json" in from_option.stderr
    assert from_env.returncode == 1, from_env.stderr
    assert f"cannot read the service account key file {tmp_path / 'key-from-env.json'}" in from_env.stderr


def test_a_key_file_that_cannot_sign_is_a_one_line_error_without_the_key(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"id": "k", "service_account_id": "s", "private_key": "not-a-pem-secret-value"}')

    done = _dsjobs(["--sa-key", str(key), *LIST], isolated_env(tmp_path), tmp_path)

    assert done.returncode == 1
    assert f"the service account key file {key} cannot sign" in done.stderr
    assert "not-a-pem-secret-value" not in done.stderr and "Traceback" not in done.stderr
