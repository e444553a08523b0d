/**
 * What a user sees of runs outside the Debug Console: the three output channels, progress notifications
 * with percent, and a status bar item while jobs run.
 */

import * as vscode from "vscode";
import { isFinal, type ConsoleParams, type Job, type LogParams, type ProgressParams, type RunEndedParams } from "../protocol";
import { jobLabel, statusText } from "../history/historyModel";
import { OutcomeLines } from "./outcomeLines";
import { ProgressBoard, type ProgressBar } from "./progressModel";

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
  private readonly outcomes = new OutcomeLines();

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

  /** One closing line per job (the server's own console lines tell the rest of the story). */
  jobChanged(job: Job): void {
    this.outcome(job.id, this.outcomes.jobChanged(job));
  }

  runEnded(params: RunEndedParams): void {
    if (params.jobId) {
      this.outcome(params.jobId, this.outcomes.runEnded(params));
    }
  }

  private outcome(jobId: string, line: string | null): void {
    if (line) {
      this.channels.toolkit.appendLine(`${timestamp()} [${jobId}] ${line}`);
    }
  }
}

/** A VS Code notification with a progress bar, open until `close()` (even one called before VS Code starts it). */
function notificationBar(title: string): ProgressBar {
  let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  let closed = false;
  let finish: (() => void) | undefined;
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false }, (progress) => {
    reporter = progress;
    return new Promise<void>((resolve) => {
      finish = resolve;
      if (closed) {
        resolve();
      }
    });
  });
  return {
    report: (value) => reporter?.report(value),
    close: () => {
      closed = true;
      finish?.();
    },
  };
}

/** Progress notifications of runs (the `dsjobs/progress` mechanism; the client declines `$/progress`). */
export class ProgressNotifier implements vscode.Disposable {
  private readonly board = new ProgressBoard(notificationBar);

  update(params: ProgressParams): void {
    this.board.update(params);
  }

  jobEnded(jobId: string): void {
    this.board.jobEnded(jobId);
  }

  runEnded(params: RunEndedParams): void {
    this.board.runEnded(params.runId);
  }

  dispose(): void {
    this.board.dispose();
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
