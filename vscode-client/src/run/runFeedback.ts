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

  constructor(private readonly channels: Channels) {}

  console(params: ConsoleParams): void {
    const level = params.level === "info" ? "" : `${params.level.toUpperCase()}: `;
    const job = params.jobId ? ` [${params.jobId}]` : "";
    this.channels.toolkit.appendLine(`${timestamp()}${job} ${level}${params.line}`);
  }

  log(params: LogParams): void {
    if (!this.announced.has(params.jobId)) {
      this.announced.add(params.jobId);
      this.channels.invocation.appendLine(`----- job ${params.jobId} -----`);
      this.channels.invocation.show(true);
    }
    this.channels.invocation.append(params.lines.map((line) => `${line}\n`).join(""));
  }

  jobChanged(job: Job): void {
    if (isFinal(job.status)) {
      const exit = job.exitCode === null ? "" : `, exit code ${job.exitCode}`;
      this.channels.toolkit.appendLine(`${timestamp()} [${job.id}] job ${jobLabel(job)} finished: ${statusText(job.status)}${exit}`);
    }
  }
}

interface OpenProgress {
  shown: number;
  report(value: { message?: string; increment?: number }): void;
  close(): void;
}

/** One notification per run stage (analysis, packaging, upload, download), with percent when known. */
export class ProgressNotifier implements vscode.Disposable {
  private readonly open = new Map<string, OpenProgress>();

  update(params: ProgressParams): void {
    if (!NOTIFIED_STAGES.has(params.stage)) {
      return;
    }
    const key = progressKey(params);
    let bar = this.open.get(key);
    if (params.finished) {
      bar?.close();
      this.open.delete(key);
      return;
    }
    bar ??= this.begin(key, params);
    const percent = percentOf(params);
    bar.report({ message: progressMessage(params, percent), increment: progressIncrement(bar.shown, percent) });
    if (percent !== null) {
      bar.shown = Math.max(bar.shown, percent);
    }
  }

  private begin(key: string, params: ProgressParams): OpenProgress {
    let close: () => void = () => undefined;
    let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    const pending: { message?: string; increment?: number }[] = [];
    const bar: OpenProgress = {
      shown: 0,
      report: (value) => (reporter ? reporter.report(value) : pending.push(value)),
      close: () => close(),
    };
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: stageTitle(params.stage), cancellable: false },
      (progress) =>
        new Promise<void>((resolve) => {
          reporter = progress;
          pending.splice(0).forEach((value) => progress.report(value));
          close = resolve;
        }),
    );
    this.open.set(key, bar);
    return bar;
  }

  dispose(): void {
    this.open.forEach((bar) => bar.close());
    this.open.clear();
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
