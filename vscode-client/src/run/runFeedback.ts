/**
 * What a user sees of runs outside the Debug Console: the three output channels, progress notifications
 * with percent, and a status bar item while jobs run.
 */

import * as vscode from "vscode";
import { isFinal, type ConsoleParams, type Job, type LogParams, type ProgressParams } from "../protocol";
import { jobLabel, statusText } from "../history/historyModel";
import { NOTIFIED_STAGES, percentOf, progressIncrement, progressKey, progressMessage, stageTitle } from "./progressModel";

/** The extension's output channels. */
export interface Channels {
  invocation: vscode.OutputChannel;
  toolkit: vscode.OutputChannel;
  logs: vscode.LogOutputChannel;
}

export function createChannels(): Channels {
  return {
    invocation: vscode.window.createOutputChannel("DataSphere Jobs Invocation"),
    toolkit: vscode.window.createOutputChannel("DataSphere Jobs Toolkit"),
    logs: vscode.window.createOutputChannel("DataSphere Jobs Toolkit Logs", { log: true }),
  };
}

function timestamp(): string {
  return new Date().toISOString().replace("T", " ").slice(0, 19);
}

/** Program output → Invocation; the run's narrative and outcomes → Toolkit. */
export class ChannelWriter {
  private readonly announced = new Set<string>();
  private readonly reportedEnds = new Set<string>();

  constructor(private readonly channels: Channels) {}

  console(params: ConsoleParams): void {
    const level = params.level === "info" ? "" : `${params.level.toUpperCase()}: `;
    const job = params.jobId ? ` [${params.jobId}]` : "";
    this.channels.toolkit.appendLine(`${timestamp()}${job} ${level}${params.line}`);
  }

  log(params: LogParams): void {
    if (!this.announced.has(params.jobId)) {
      this.announced.add(params.jobId);
      // Not revealed: the Debug Console follows the run; this channel keeps every job's output.
      this.channels.invocation.appendLine(`----- job ${params.jobId} -----`);
    }
    this.channels.invocation.append(params.lines.map((line) => `${line}\n`).join(""));
  }

  /** One closing line per job, once its exit code is known (the server's own console lines tell the rest). */
  jobChanged(job: Job): void {
    if (!isFinal(job.status) || job.exitCode === null || this.reportedEnds.has(job.id)) {
      return;
    }
    this.reportedEnds.add(job.id);
    this.channels.toolkit.appendLine(
      `${timestamp()} [${job.id}] job ${jobLabel(job)} finished: ${statusText(job.status)}, exit code ${job.exitCode}`,
    );
  }
}

interface OpenProgress {
  runId: string;
  jobId: string | null;
  shown: number;
  idle: ReturnType<typeof setTimeout> | undefined;
  report(value: { message?: string; increment?: number }): void;
  close(): void;
}

/** A bar that hears nothing for this long is closed (the stage ended without saying so). */
const IDLE_CLOSE_MS = 60_000;
/** A bar at 100% stays this long, so the user sees it complete. */
const DONE_CLOSE_MS = 1_000;

/**
 * One notification per run stage (analysis, packaging, upload, download), with percent when known. Stages of
 * a run are sequential: a bar closes when its stage finishes, when a later stage of the run starts, or when
 * its job ends.
 */
export class ProgressNotifier implements vscode.Disposable {
  private readonly open = new Map<string, OpenProgress>();

  update(params: ProgressParams): void {
    const key = progressKey(params);
    this.closeWhere((bar, barKey) => bar.runId === params.runId && barKey !== key);
    if (!NOTIFIED_STAGES.has(params.stage)) {
      return;
    }
    if (params.finished) {
      this.closeWhere((_bar, barKey) => barKey === key);
      return;
    }
    const bar = this.open.get(key) ?? this.begin(key, params);
    bar.jobId ??= params.jobId;
    const percent = percentOf(params);
    bar.report({ message: progressMessage(params, percent), increment: progressIncrement(bar.shown, percent) });
    if (percent !== null) {
      bar.shown = Math.max(bar.shown, percent);
    }
    clearTimeout(bar.idle);
    const closeAfter = percent === 100 ? DONE_CLOSE_MS : IDLE_CLOSE_MS;
    bar.idle = setTimeout(() => this.closeWhere((_bar, barKey) => barKey === key), closeAfter);
  }

  /** Closes the bars of a job that ended. */
  jobEnded(jobId: string): void {
    this.closeWhere((bar) => bar.jobId === jobId);
  }

  private closeWhere(match: (bar: OpenProgress, key: string) => boolean): void {
    for (const [key, bar] of [...this.open.entries()]) {
      if (match(bar, key)) {
        clearTimeout(bar.idle);
        bar.close();
        this.open.delete(key);
      }
    }
  }

  private begin(key: string, params: ProgressParams): OpenProgress {
    let closed = false;
    let close: () => void = () => {
      closed = true;
    };
    let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    const pending: { message?: string; increment?: number }[] = [];
    const bar: OpenProgress = {
      runId: params.runId,
      jobId: params.jobId,
      shown: 0,
      idle: undefined,
      report: (value) => (reporter ? reporter.report(value) : pending.push(value)),
      close: () => close(),
    };
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: stageTitle(params.stage), cancellable: false },
      (progress) =>
        new Promise<void>((resolve) => {
          if (closed) {
            resolve();
            return;
          }
          reporter = progress;
          pending.splice(0).forEach((value) => progress.report(value));
          close = resolve;
        }),
    );
    this.open.set(key, bar);
    return bar;
  }

  dispose(): void {
    this.closeWhere(() => true);
  }
}

/** A status bar item while jobs run: the job's name and state, or the count. */
export class RunningJobsStatus implements vscode.Disposable {
  private readonly running = new Map<string, Job>();
  private readonly item = vscode.window.createStatusBarItem("datasphere.runningJobs", vscode.StatusBarAlignment.Left, 9);

  constructor() {
    this.item.name = "DataSphere Jobs: running jobs";
    this.item.command = "datasphere.history.focus";
  }

  jobChanged(job: Job): void {
    if (isFinal(job.status)) {
      this.running.delete(job.id);
    } else {
      this.running.set(job.id, job);
    }
    this.render();
  }

  private render(): void {
    const jobs = [...this.running.values()];
    if (jobs.length === 0) {
      this.item.hide();
      return;
    }
    const first = jobs[0] as Job;
    this.item.text =
      jobs.length === 1
        ? `$(sync~spin) DataSphere job ${jobLabel(first)}: ${statusText(first.status)}`
        : `$(sync~spin) ${jobs.length} DataSphere jobs running`;
    this.item.tooltip = jobs.map((job) => `${job.id} — ${statusText(job.status)}`).join("\n");
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
