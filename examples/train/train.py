# /// script
# [tool.dsjobs]
# inputs = ["data/train.csv"]
# outputs = ["model.json", "outputs"]
# ///
"""Fits a linear model y = w1*x1 + w2*x2 + b on data/train.csv by gradient descent.

Run it as a job: `dsjobs run train.py -- --epochs 3` (the `[tool.dsjobs]` block above ships the data
and brings `model.json` and `outputs/` back), or `dsjobs project job execute -p <project> -c config.yaml`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import yaml
from utils.metrics import mean_squared_error, r2_score


def load_rows(path: Path) -> list[tuple[float, float, float]]:
    """Rows (x1, x2, y) of the CSV file."""
    with path.open(newline="") as f:
        return [(float(r["x1"]), float(r["x2"]), float(r["y"])) for r in csv.DictReader(f)]


def train(rows: list[tuple[float, float, float]], epochs: int, lr: float, pause: float) -> dict[str, float]:
    """Plain gradient descent, printing one progress line per epoch."""
    w1 = w2 = b = 0.0
    n = len(rows)
    for epoch in range(1, epochs + 1):
        for _ in range(50):
            g1 = g2 = gb = 0.0
            for x1, x2, y in rows:
                err = w1 * x1 + w2 * x2 + b - y
                g1, g2, gb = g1 + err * x1, g2 + err * x2, gb + err
            w1, w2, b = w1 - lr * g1 / n, w2 - lr * g2 / n, b - lr * gb / n
        predicted = [w1 * x1 + w2 * x2 + b for x1, x2, _ in rows]
        loss = mean_squared_error(predicted, [y for _, _, y in rows])
        print(f"epoch {epoch}/{epochs}: loss={loss:.4f}", flush=True)
        time.sleep(pause)
    return {"w1": w1, "w2": w2, "b": b}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="data/train.csv", help="training data (CSV with x1,x2,y)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between epochs (to watch it live)")
    parser.add_argument("--model", default="model.json", help="where to write the fitted model")
    parser.add_argument("--report-dir", default="outputs", help="folder for the report")
    parser.add_argument("--fail", action="store_true", help="exit with code 3 after training (for tests)")
    args = parser.parse_args()

    data = Path(args.data)
    if not data.is_file():
        print(f"error: no training data at {data}", file=sys.stderr)
        return 2
    rows = load_rows(data)
    print(f"loaded {len(rows)} rows from {data}", flush=True)
    model = train(rows, args.epochs, args.lr, args.pause)
    predicted = [model["w1"] * x1 + model["w2"] * x2 + model["b"] for x1, x2, _ in rows]
    score = r2_score(predicted, [y for _, _, y in rows])

    Path(args.model).write_text(json.dumps(model, indent=2) + "\n")
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.yaml").write_text(yaml.safe_dump({"epochs": args.epochs, "r2": round(score, 4)}))
    print(f"r2={score:.4f}; model written to {args.model}", flush=True)
    if args.fail:
        print("failing on purpose (--fail)", file=sys.stderr, flush=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
