/**
 * Routes the server's run notifications to whoever follows that run (a debug session): console lines and
 * run ends by run id (console lines also by job id), program output and job changes by job id. Pure module.
 */

import { isFinal, type ConsoleParams, type Job, type LogParams, type RunEndedParams } from "../protocol";

export interface RunListener {
  console(params: ConsoleParams): void;
  log(params: LogParams): void;
  jobChanged(job: Job): void;
  /** The run is over (its last message): the follower can end. */
  runEnded(params: RunEndedParams): void;
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
  private readonly endedRuns = new Map<string, RunEndedParams>();

  /** Registers a follower; nothing reaches it until it is bound to a run or a job. */
  subscribe(listener: RunListener): RunSubscription {
    const runIds = new Set<string>();
    const jobIds = new Set<string>();
    return {
      bindRun: (runId) => {
        runIds.add(runId);
        this.runs.set(runId, listener);
        const ended = this.endedRuns.get(runId);
        if (ended) {
          listener.runEnded(ended);
        }
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
    remember(this.lastState, job.id, job);
    this.jobs.get(job.id)?.jobChanged(job);
  }

  /** A `dsjobs/runEnded`: remembered (an attach learns its run id after the run may have ended), then routed. */
  runEnded(params: RunEndedParams): void {
    remember(this.endedRuns, params.runId, params);
    this.runs.get(params.runId)?.runEnded(params);
  }
}

/** Sets `key` as the newest entry, dropping the oldest beyond REMEMBERED_JOBS. */
function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED_JOBS) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) {
      map.delete(oldest);
    }
  }
}
