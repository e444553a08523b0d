"""Small job projects about files, as a new user writes them (shared by our CLI's and the reference's tests).

`shell_project`: a shell entry point `run.sh` (mode 755, no shebang, given as a single input), a shebang
Python tool `tool.py` (`cmd: ./tool.py world`), a folder input with an executable without a shebang, an
input at an absolute path and one at `../` (both with variables, as the docs' `/usr/share/params.json:
{var: PARAMS}`), and outputs at an absolute and a `../` path (a file and a folder) with variables.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

RUN_SH = textwrap.dedent("""\
    set -e
    echo "run.sh got $# args: $*"
    ./bin/helper
""")
TOOL_PY = textwrap.dedent("""\
    #!/usr/bin/env python3
    import sys
    print("tool says hello", sys.argv[1])
""")
CONFIG = textwrap.dedent("""\
    name: files
    cmd: >
      ./run.sh one two && ./tool.py world
      && cat ${PARAMS} ${WORDS} > ${RESULT} && echo beside > ${BESIDE}
      && mkdir -p ${REPORT}/plots && echo plot > ${REPORT}/plots/p.txt
    inputs:
      - run.sh
      - tool.py
      - bin
      - {params}:
          var: PARAMS
      - ../shared/words.txt: WORDS
    outputs:
      - {result}: RESULT
      - ../beside.txt: BESIDE
      - ../report: REPORT
""")


@dataclass(frozen=True)
class ShellProject:
    """Where the project and the files it names live."""

    folder: Path
    params: Path
    result: Path
    beside: Path
    report: Path

    def expected_stdout(self) -> list[str]:
        """The lines the job prints."""
        return ["run.sh got 2 args: one two", "helper ran", "tool says hello world"]


def shell_project(root: Path) -> ShellProject:
    """Write the project under ``root`` (``root/project`` is the working dir)."""
    folder = root / "project"
    (folder / "bin").mkdir(parents=True)
    for name, text in (("run.sh", RUN_SH), ("tool.py", TOOL_PY), ("bin/helper", "echo helper ran\n")):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    params = root / "elsewhere" / "params.json"
    params.parent.mkdir()
    params.write_text('{"lr": 0.1}\n')
    (root / "shared").mkdir()
    (root / "shared" / "words.txt").write_text("words from a sibling folder\n")
    result = root / "results" / "result.txt"
    config = CONFIG.replace("{params}", str(params)).replace("{result}", str(result))
    (folder / "config.yaml").write_text(config)
    return ShellProject(folder, params, result, root / "beside.txt", root / "report")
