"""A plain script doing what an Airflow PythonOperator task would: run a job, sweep 4 forks in threads.

Usage: python -m tests.sdk.airflow_task PROJECT_DIR — prints one JSON line: the base job, each learning
rate's fork id and the result its outputs hold.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dsjobs_lsp import SDK

LEARNING_RATES = ("0.1", "0.2", "0.3", "0.4")


def sweep(project: Path) -> dict[str, object]:
    """The task body: the base job, then one fork per learning rate, each followed in its own thread."""
    sdk = SDK()
    base = sdk.run(config=project / "config.yaml", working_dir=project)

    def one(lr: str) -> str:
        job = sdk.fork_job(base.id, args={"LR": lr}, name=f"lr-{lr}")
        job.wait(output_dir=project / "runs" / lr)
        sdk.download_job_files(job.id, output_dir=project / "sweep" / lr)
        return job.id

    with ThreadPoolExecutor(max_workers=len(LEARNING_RATES)) as pool:
        forks = dict(zip(LEARNING_RATES, pool.map(one, LEARNING_RATES), strict=True))
    results = {lr: json.loads((project / "sweep" / lr / "result.json").read_text()) for lr in forks}
    return {"base": base.id, "forks": forks, "results": results}


if __name__ == "__main__":
    print(json.dumps(sweep(Path(sys.argv[1]))))
