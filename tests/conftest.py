"""Settings for the whole suite: no test may ever reach the VM metadata service at 169.254.169.254.

`YC_METADATA_ADDR` points the metadata probe (ours and the reference CLI's) at a closed loopback port, in
this process and in every process a test starts; tests of the probe point it at their own server.
"""

from __future__ import annotations

import os

from tests.support.isolation import CLOSED_METADATA_ADDR

os.environ["YC_METADATA_ADDR"] = CLOSED_METADATA_ADDR
os.environ.pop("YC_SA_KEY_FILE", None)
