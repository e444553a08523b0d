"""A client finding the local daemon does not load the server (gRPC services, HTTP store, engine)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, ensure_local_backend
print(" ".join(m for m in sys.modules if m.startswith(("h11", "dsjobs_lsp.backends.local.server"))))
from dsjobs_lsp.backends.local import LocalServer
print(LocalServer.__name__)
"""


def test_finding_the_daemon_loads_no_server_code_and_the_server_is_still_importable() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["", "LocalServer"]
