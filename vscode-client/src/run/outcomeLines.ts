/** The one closing line per job in the DataSphere Jobs Toolkit channel. Pure module. */

import { isFinal, type Job, type JobStatus, type RunEndedParams } from "../protocol";
import { jobLabel, statusText } from "../history/historyModel";

const REMEMBERED_JOBS = 500;

/**
 * Decides the Toolkit channel's outcome line of each job: written once, when the first run or attach
 * following it ends (`dsjobs/runEnded`) or, failing that, when a final status arrives with its exit code.
 * Later updates, attaches and repeated notifications of the same job add nothing.
 */
export class OutcomeLines {
  private readonly jobs = new Map<string, Job>();
  private readonly reported = new Set<string>();

  /** Remembers the job (for its name) and returns its line once it is final with an exit code. */
  jobChanged(job: Job): string | null {
    this.jobs.delete(job.id);
    this.jobs.set(job.id, job);
    if (this.jobs.size > REMEMBERED_JOBS) {
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined) {
        this.jobs.delete(oldest);
      }
    }
    if (!isFinal(job.status) || job.exitCode === null) {
      return null;
    }
    return this.lineOnce(job.id, job.status, job.exitCode);
  }

  /** The line of a run's job when it was not written yet (a run that failed before its job existed: none). */
  runEnded(params: RunEndedParams): string | null {
    if (!params.jobId || !params.status || !isFinal(params.status)) {
      return null;
    }
    return this.lineOnce(params.jobId, params.status, params.exitCode);
  }

  private lineOnce(jobId: string, status: JobStatus, exitCode: number | null): string | null {
    if (this.reported.has(jobId)) {
      return null;
    }
    this.reported.add(jobId);
    const known = this.jobs.get(jobId);
    const name = known ? jobLabel(known) : jobId;
    const code = exitCode === null ? "" : `, exit code ${exitCode}`;
    return `job ${name} finished: ${statusText(status)}${code}`;
  }
}
