"""A small job for sweeps: `main.py` scores a learning rate `LR` on `data.txt` and writes `result.json`."""

from __future__ import annotations

from pathlib import Path

MAIN = """\
import argparse
import json
import pathlib
import time

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--fail", action="store_true")
parser.add_argument("--sleep", type=float, default=0.0)
options = parser.parse_args()
values = [float(x) for x in pathlib.Path(options.data).read_text().split()]
loss = sum((value - options.lr) ** 2 for value in values)
print(f"lr={options.lr} loss={loss:.4f}", flush=True)
time.sleep(options.sleep)
pathlib.Path(options.out).write_text(json.dumps({"lr": options.lr, "loss": loss}))
if options.fail:
    raise SystemExit(3)
"""

CONFIG = """\
name: sweep-base
desc: scores one learning rate
cmd: python main.py --lr ${LR} --data ${DATA} --out ${RESULT}
args:
  LR: "0.5"
inputs:
  - data.txt: DATA
outputs:
  - result.json: RESULT
env:
  python: auto
"""

LEARNING_RATES = ("0.1", "0.2", "0.3", "0.4")


def write_sweep_project(folder: Path) -> Path:
    """`folder` with main.py, data.txt and config.yaml (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text(MAIN)
    (folder / "data.txt").write_text("0.1 0.2 0.3 0.4 0.5\n")
    (folder / "config.yaml").write_text(CONFIG)
    return folder


def expected_loss(lr: float) -> float:
    """What main.py computes for `lr` on data.txt."""
    return sum((value - lr) ** 2 for value in (0.1, 0.2, 0.3, 0.4, 0.5))
