/**
 * The `datasphere` debug adapter, run inline in the extension host: `launch` runs a file as a job, `attach`
 * follows an existing job. The DEBUG CONSOLE shows the run's console sequence (job link included) and the
 * program's output; the session ends with the job (its exit code); Stop cancels the job, Disconnect detaches.
 */

import { randomUUID } from "node:crypto";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  isFinal,
  ServerCommand,
  type ConsoleParams,
  type Job,
  type LogParams,
  type RunEndedParams,
  type RunStarted,
} from "../protocol";
import { commandFailure } from "../server/commandError";
import type { RunRouter, RunSubscription } from "../run/runRouter";
import { jobExitCode, launchConfigFromDebug } from "./launchArgs";
import { jobLabel } from "../history/historyModel";
import type { FieldError } from "../protocol";

/** What the adapter needs from the rest of the extension. */
export interface AdapterServices {
  execute<T>(command: string, argument: object): Promise<T>;
  router: RunRouter;
  /** What to say while the server is not ready; undefined when it is. */
  notReady(): string | undefined;
  /** Field errors of a run the server refused (shown in the form when it is open). */
  onRunRejected(program: string, errors: FieldError[]): void;
}

interface DapRequest {
  seq: number;
  type: "request";
  command: string;
  arguments?: Record<string, unknown>;
}

const CANCEL_WAIT_MS = 60_000;
/** The server's closing line of a cancelled job: the user asked for it, so it is not shown as an error. */
const CANCELLED_LINE = /\bstatus CANCELLED\b/;
/**
 * The session ends with `dsjobs/runEnded`. Should it never come (the server died), a final job status
 * followed by this long a silence ends the session too.
 */
const SETTLE_MS = 30_000;

export class DatasphereDebugAdapter implements vscode.DebugAdapter {
  private readonly emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.emitter.event;
  private seq = 1;
  private subscription: RunSubscription | undefined;
  private jobId: string | undefined;
  private cancelRequested = false;
  private ended = false;
  private cancelTimer: ReturnType<typeof setTimeout> | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private finalExitCode: number | undefined;
  private lastJob: Job | undefined;
  private endStatus: string | null = null;

  constructor(private readonly services: AdapterServices) {}

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const request = message as DapRequest;
    if (request.type !== "request") {
      return;
    }
    switch (request.command) {
      case "initialize":
        this.respond(request, { supportsTerminateRequest: true, supportsConfigurationDoneRequest: true });
        this.event("initialized");
        break;
      case "launch":
        this.respond(request);
        void this.launch(request.arguments ?? {});
        break;
      case "attach":
        this.respond(request);
        void this.attach(typeof request.arguments?.jobId === "string" ? request.arguments.jobId : "");
        break;
      case "terminate":
        this.respond(request);
        void this.cancelJob();
        break;
      case "disconnect":
        this.respond(request);
        this.detach();
        break;
      case "threads":
        this.respond(request, { threads: [] });
        break;
      default:
        this.respond(request);
    }
  }

  private async launch(args: Record<string, unknown>): Promise<void> {
    const config = launchConfigFromDebug(args);
    const program = config.program ? path.resolve(config.workingDirectory ?? "", config.program) : "";
    if (!program) {
      this.output("No program to run: set \"program\" in the launch configuration.\n", "stderr");
      this.finish(1);
      return;
    }
    const runId = randomUUID();
    this.follow().bindRun(runId);
    this.sayIfNotReady();
    try {
      const started = await this.services.execute<RunStarted>(ServerCommand.runFile, { file: program, config, runId });
      this.bindJob(started.jobId);
    } catch (error) {
      const failure = commandFailure(error);
      this.output(`${failure.message}\n`, "stderr");
      for (const finding of failure.errors) {
        this.output(`  ${finding.field}: ${finding.message}\n`, "stderr");
      }
      this.services.onRunRejected(program, failure.errors);
      this.finish(1);
    }
  }

  private async attach(jobId: string): Promise<void> {
    if (!jobId) {
      this.output("No job to attach to: set \"jobId\".\n", "stderr");
      this.finish(1);
      return;
    }
    // The server says "attaching to job …" itself once it has found the job: no line of our own (it doubled).
    this.bindJob(jobId);
    this.sayIfNotReady();
    try {
      const started = await this.services.execute<RunStarted>(ServerCommand.attach, { jobId });
      this.subscription?.bindRun(started.runId);
    } catch (error) {
      this.output(`${commandFailure(error).message}\n`, "stderr");
      this.finish(1);
    }
  }

  /** While the server is being set up (or cannot be), the console says so rather than staying blank. */
  private sayIfNotReady(): void {
    const waiting = this.services.notReady();
    if (waiting) {
      this.output(`${waiting}\n`, "console");
    }
  }

  private follow(): RunSubscription {
    this.subscription ??= this.services.router.subscribe({
      console: (params) => this.onConsole(params),
      log: (params) => this.onLog(params),
      jobChanged: (job) => this.onJobChanged(job),
      runEnded: (params) => this.onRunEnded(params),
    });
    return this.subscription;
  }

  private bindJob(jobId: string): void {
    this.jobId = jobId;
    this.follow().bindJob(jobId);
    if (this.cancelRequested) {
      void this.cancelJob();
    }
  }

  private onConsole(params: ConsoleParams): void {
    if (params.jobId && !this.jobId) {
      this.bindJob(params.jobId);
    }
    this.output(`${params.line}\n`, params.level === "error" && !CANCELLED_LINE.test(params.line) ? "stderr" : "console");
    this.rearmSettle();
  }

  private onLog(params: LogParams): void {
    const category = params.stream === "stderr" ? "stderr" : params.stream === "system" ? "console" : "stdout";
    this.output(params.lines.map((line) => `${line}\n`).join(""), category);
    this.rearmSettle();
  }

  /** A final status arms the fallback end (the run still downloads outputs; `dsjobs/runEnded` ends it). */
  private onJobChanged(job: Job): void {
    this.lastJob = job;
    if (!isFinal(job.status)) {
      return;
    }
    this.finalExitCode = jobExitCode(job.status, job.exitCode);
    this.endStatus = job.status;
    this.rearmSettle();
  }

  /** The run's last message: the session ends with the job's exit code (1 when following it failed). */
  private onRunEnded(params: RunEndedParams): void {
    this.endStatus = params.status ?? this.endStatus;
    this.finish(params.status ? jobExitCode(params.status, params.exitCode) : 1);
  }

  private rearmSettle(): void {
    if (this.finalExitCode === undefined || this.ended) {
      return;
    }
    clearTimeout(this.settleTimer);
    const exitCode = this.finalExitCode;
    this.settleTimer = setTimeout(() => this.finish(exitCode), SETTLE_MS);
  }

  private async cancelJob(): Promise<void> {
    this.cancelRequested = true;
    if (!this.jobId || this.ended) {
      return;
    }
    this.output(`cancelling job ${this.jobId} ...\n`, "console");
    try {
      await this.services.execute(ServerCommand.cancel, { jobId: this.jobId });
    } catch (error) {
      this.output(`cancel failed: ${commandFailure(error).message}\n`, "stderr");
    }
    this.cancelTimer = setTimeout(() => this.finish(1), CANCEL_WAIT_MS);
  }

  private detach(): void {
    if (!this.ended && this.jobId) {
      this.output(`detached from job ${this.jobId}; it keeps running (Attach from Launch History).\n`, "console");
    }
    this.finish(undefined);
  }

  private finish(exitCode: number | undefined): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    clearTimeout(this.cancelTimer);
    clearTimeout(this.settleTimer);
    this.subscription?.dispose();
    if (exitCode !== undefined) {
      this.event("dsjobsJobEnded", {
        job: this.lastJob ? jobLabel(this.lastJob) : this.jobId,
        status: this.endStatus,
        exitCode,
        cancelled: this.cancelRequested,
      });
      this.event("exited", { exitCode });
    }
    this.event("terminated");
  }

  private output(text: string, category: "console" | "stdout" | "stderr"): void {
    if (text) {
      this.event("output", { category, output: text });
    }
  }

  private respond(request: DapRequest, body: object = {}): void {
    this.emitter.fire({
      seq: this.seq++,
      type: "response",
      request_seq: request.seq,
      command: request.command,
      success: true,
      body,
    });
  }

  private event(event: string, body?: object): void {
    this.emitter.fire({ seq: this.seq++, type: "event", event, body });
  }

  dispose(): void {
    clearTimeout(this.cancelTimer);
    clearTimeout(this.settleTimer);
    this.subscription?.dispose();
    this.emitter.dispose();
  }
}
