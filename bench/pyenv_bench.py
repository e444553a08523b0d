"""Python environment analysis: ours (static, in the user's interpreter) vs the reference's envzy.

Run: `python3 bench/pyenv_bench.py [--runs N]`. Both analyse the same generated project in the same
interpreter (the reference venv of `tests/support/reference.py`, which holds every package it imports). envzy
checks each requirement against a package index; it is given a local simple index on 127.0.0.1 (listing the
installed versions) so no traffic leaves the machine and its time is analysis, not network.
Prints wall times (median of N runs), the ratio (target <= 0.2x), both requirement sets and recall/precision
against the known truth, and the local modules each found.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.reference import reference_python

from dsjobs_lsp.core.pyenv import PythonSettings, analyze_python_env

PROJECT = {
    "main.py": (
        "import yaml\n"
        "import attr as a\n"
        "from bs4 import BeautifulSoup\n"
        "from google.protobuf import message\n"
        "from tabulate import tabulate\n"
        "from mylib import model\n"
        "from params import PARAMS\n"
        "import nsutil.text\n"
        "\n\n"
        "def fetch(url):\n"
        "    import requests  # lazy\n"
        "    return requests.get(url)\n"
        "\n\n"
        "if __name__ == '__main__':\n"
        "    print(tabulate([[model.train(PARAMS)]]))\n"
    ),
    "mylib/__init__.py": "from . import model\n",
    "mylib/model.py": "from .utils import scale\nimport pytz\n\n\ndef train(p):\n    return scale(p['lr'])\n",
    "mylib/utils.py": "def scale(x):\n    return x * 2\n",
    "params.py": "PARAMS = {'lr': 0.1, 'epochs': 3}\n",
    "nsutil/text.py": "def clean(s):\n    return s.strip()\n",
}
TRUTH_REQUIREMENTS = {"pyyaml", "attrs", "beautifulsoup4", "protobuf", "tabulate", "requests", "pytz"}
TRUTH_LOCAL = {"mylib", "params.py", "nsutil"}

REFERENCE_SCRIPT = """
import json, os, sys
sys.path.append(os.getcwd())
from envzy import AutoExplorer
from datasphere.utils import PythonModule, get_local_modules_paths, get_requirements_for_modules
explorer = AutoExplorer(pypi_index_url=sys.argv[1])
modules = [PythonModule("main.py")]
local = get_local_modules_paths(modules, explorer)
requirements = get_requirements_for_modules(modules, explorer)
print(json.dumps({"requirements": requirements, "local": [os.path.basename(p) for p in local]}))
"""

INSTALLED_SCRIPT = """
import json
from importlib.metadata import distributions
print(json.dumps({d.metadata["Name"]: d.version for d in distributions()}))
"""


def _index_handler(versions: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    by_name = {canonicalize_name(n): (n, v) for n, v in versions.items()}
    by_name[canonicalize_name("pip")] = ("pip", "10.0.0")

    class SimpleIndex(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = [p for p in self.path.split("/") if p]
            found = by_name.get(canonicalize_name(parts[-1])) if len(parts) == 2 else None
            if found is None:
                self.send_error(404)
                return
            name, version = found
            wheel = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
            body = f'<html><body><a href="/files/{wheel}">{wheel}</a></body></html>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return SimpleIndex


@contextmanager
def local_index(versions: dict[str, str]) -> Iterator[str]:
    """A PEP 503 simple index on 127.0.0.1 listing one py3 wheel per installed distribution."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _index_handler(versions))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def run_reference(python: Path, project: Path, index_url: str) -> tuple[float, set[str], set[str]]:
    """One envzy analysis (as `datasphere` runs it): wall seconds, requirement names, local module names."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-c", REFERENCE_SCRIPT, index_url],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"reference analysis failed:\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    names = {str(canonicalize_name(line.split("==")[0])) for line in answer["requirements"]}
    return elapsed, names, set(answer["local"])


def run_ours(python: Path, project: Path) -> tuple[float, set[str], set[str], list[str]]:
    """One analysis of ours: wall seconds, requirement names, local module names, warnings."""
    started = time.perf_counter()
    analysis = asyncio.run(
        analyze_python_env(
            [Path("main.py")], working_dir=project, interpreter=python, python=PythonSettings()
        )
    )
    elapsed = time.perf_counter() - started
    names = {str(canonicalize_name(line.split("==")[0])) for line in analysis.requirements}
    return elapsed, names, {m.path.name for m in analysis.local_modules}, analysis.warnings


def _scores(found: set[str], truth: set[str]) -> str:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    return f"recall {hits}/{len(truth)} = {hits / len(truth):.0%}, precision {precision:.0%}"


def main() -> None:
    """Generates the project, runs both analyses N times, prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    python = reference_python()
    installed = json.loads(
        subprocess.run(
            [str(python), "-c", INSTALLED_SCRIPT], capture_output=True, text=True, check=True
        ).stdout
    )
    with tempfile.TemporaryDirectory() as folder, local_index(installed) as index_url:
        project = Path(folder)
        for relative, text in PROJECT.items():
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_text(text)
        ours = [run_ours(python, project) for _ in range(runs)]
        reference = [run_reference(python, project, index_url) for _ in range(runs)]

    our_time = statistics.median(r[0] for r in ours)
    ref_time = statistics.median(r[0] for r in reference)
    print(
        f"interpreter: {python}  runs: {runs}  project: {len(PROJECT)} files, "
        f"{len(TRUTH_REQUIREMENTS)} requirements (one lazy), {len(TRUTH_LOCAL)} local modules"
    )
    print(f"ours      : {our_time:.3f} s (median; runs {', '.join(f'{r[0]:.3f}' for r in ours)})")
    print(f"reference : {ref_time:.3f} s (median; runs {', '.join(f'{r[0]:.3f}' for r in reference)})")
    print(f"ratio ours/reference: {our_time / ref_time:.3f}x (target <= 0.2x)")
    print(f"truth requirements : {sorted(TRUTH_REQUIREMENTS)}")
    print(f"ours requirements  : {sorted(ours[0][1])}  {_scores(ours[0][1], TRUTH_REQUIREMENTS)}")
    print(f"ref requirements   : {sorted(reference[0][1])}  {_scores(reference[0][1], TRUTH_REQUIREMENTS)}")
    print(f"truth local modules: {sorted(TRUTH_LOCAL)}")
    print(f"ours local modules : {sorted(ours[0][2])}  {_scores(ours[0][2], TRUTH_LOCAL)}")
    print(f"ref local modules  : {sorted(reference[0][2])}  {_scores(reference[0][2], TRUTH_LOCAL)}")
    print(f"our warnings       : {ours[0][3]}")


if __name__ == "__main__":
    main()
