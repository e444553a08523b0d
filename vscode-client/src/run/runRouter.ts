/**
 * Routes the server's run notifications to whoever follows that run (a debug session): console lines by
 * run id (or job id), program output and job changes by job id. Pure module.
 */

import { isFinal, type ConsoleParams, type Job, type LogParams } from "../protocol";

export interface RunListener {
  console(params: ConsoleParams): void;
  log(params: LogParams): void;
  jobChanged(job: Job): void;
}

/** One follower's registration; bind it to the run and job ids it follows. */
export interface RunSubscription {
  bindRun(runId: string): void;
  bindJob(jobId: string): void;
  dispose(): void;
}

const REMEMBERED_JOBS = 200;

export class RunRouter {
  private readonly runs = new Map<string, RunListener>();
  private readonly jobs = new Map<string, RunListener>();
  private readonly lastState = new Map<string, Job>();

  /** Registers a follower; nothing reaches it until it is bound to a run or a job. */
  subscribe(listener: RunListener): RunSubscription {
    const runIds = new Set<string>();
    const jobIds = new Set<string>();
    return {
      bindRun: (runId) => {
        runIds.add(runId);
        this.runs.set(runId, listener);
      },
      bindJob: (jobId) => {
        if (jobIds.has(jobId)) {
          return;
        }
        jobIds.add(jobId);
        this.jobs.set(jobId, listener);
        const known = this.lastState.get(jobId);
        if (known && isFinal(known.status)) {
          listener.jobChanged(known);
        }
      },
      dispose: () => {
        runIds.forEach((id) => this.runs.delete(id));
        jobIds.forEach((id) => this.jobs.delete(id));
      },
    };
  }

  /** A `dsjobs/console` line: to the run's follower, which is then also bound to the job it names. */
  console(params: ConsoleParams): void {
    const listener = this.runs.get(params.runId) ?? (params.jobId ? this.jobs.get(params.jobId) : undefined);
    if (!listener) {
      return;
    }
    if (params.jobId && !this.jobs.has(params.jobId)) {
      this.jobs.set(params.jobId, listener);
    }
    listener.console(params);
  }

  /** A `dsjobs/log` batch: to the job's follower. */
  log(params: LogParams): void {
    this.jobs.get(params.jobId)?.log(params);
  }

  /** A `dsjobs/jobChanged`: remembered (a follower bound later still learns a final state), then routed. */
  jobChanged(job: Job): void {
    this.lastState.delete(job.id);
    this.lastState.set(job.id, job);
    if (this.lastState.size > REMEMBERED_JOBS) {
      const oldest = this.lastState.keys().next().value;
      if (oldest !== undefined) {
        this.lastState.delete(oldest);
      }
    }
    this.jobs.get(job.id)?.jobChanged(job);
  }
}
