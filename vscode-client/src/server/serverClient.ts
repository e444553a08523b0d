/**
 * The dsjobs language server's lifecycle: started from the user's interpreter, restarted after a crash, its
 * state in the status bar; custom notifications re-emitted as events that survive restarts.
 */

import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  Trace,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import {
  ServerNotification,
  type ConsoleParams,
  type JobChangedParams,
  type LogParams,
  type ProgressParams,
  type RunEndedParams,
} from "../protocol";
import { didChangeConfigurationParams, initializationOptions, readSettings } from "../settings";
import { SERVER_ARGS } from "./interpreter";
import { offerServerInstall, resolveInterpreter, serverImportable } from "./pythonEnvironment";
import { DeclineWorkDoneProgress } from "./progressCapability";
import { RestartPolicy } from "./restartPolicy";

export type ServerState = "stopped" | "starting" | "running" | "notInstalled" | "failed";

const STATE_TEXT: Record<ServerState, { text: string; tooltip: string }> = {
  stopped: { text: "$(circle-slash) DataSphere", tooltip: "DataSphere Jobs server stopped — click to restart" },
  starting: { text: "$(loading~spin) DataSphere", tooltip: "DataSphere Jobs server starting" },
  running: { text: "$(cloud) DataSphere", tooltip: "DataSphere Jobs server running" },
  notInstalled: { text: "$(warning) DataSphere", tooltip: "dsjobs_lsp is not installed in the interpreter — click to retry" },
  failed: { text: "$(error) DataSphere", tooltip: "DataSphere Jobs server failed — click to restart" },
};

/** Owns the LanguageClient; everything else talks to the server through it. */
export class DsjobsServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly statusItem = vscode.window.createStatusBarItem("datasphere.server", vscode.StatusBarAlignment.Left, 10);
  private readonly restartPolicy = new RestartPolicy();
  private stateValue: ServerState = "stopped";
  private starting: Promise<void> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  readonly onConsole = new vscode.EventEmitter<ConsoleParams>();
  readonly onLog = new vscode.EventEmitter<LogParams>();
  readonly onJobChanged = new vscode.EventEmitter<JobChangedParams>();
  readonly onProgress = new vscode.EventEmitter<ProgressParams>();
  readonly onRunEnded = new vscode.EventEmitter<RunEndedParams>();
  /** Fires each time a (re)started server is ready for commands. */
  readonly onReady = new vscode.EventEmitter<void>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly toolkit: vscode.OutputChannel,
  ) {
    this.statusItem.name = "DataSphere Jobs Server";
    this.statusItem.command = "datasphere.restartServer";
    this.setState("stopped");
    this.statusItem.show();
    this.disposables.push(
      this.statusItem,
      this.onConsole,
      this.onLog,
      this.onJobChanged,
      this.onProgress,
      this.onRunEnded,
      this.onReady,
    );
  }

  get state(): ServerState {
    return this.stateValue;
  }

  private setState(state: ServerState): void {
    this.stateValue = state;
    this.statusItem.text = STATE_TEXT[state].text;
    this.statusItem.tooltip = STATE_TEXT[state].tooltip;
  }

  /** Starts the server (once; concurrent callers share the attempt). */
  start(): Promise<void> {
    this.starting ??= this.startOnce().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    if (this.client?.isRunning()) {
      return;
    }
    this.setState("starting");
    const python = await resolveInterpreter();
    this.log.info(`Starting the language server: ${python} ${SERVER_ARGS.join(" ")}`);
    if (!(await serverImportable(python)) && !(await offerServerInstall(python, this.toolkit))) {
      this.setState("notInstalled");
      this.toolkit.appendLine(`dsjobs_lsp is not importable in ${python}; the server is not running.`);
      return;
    }
    await vscode.workspace.fs.createDirectory(this.context.globalStorageUri);
    const client = this.createClient(python);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.setState("failed");
      this.toolkit.appendLine(`The language server failed to start: ${String(error)}`);
      throw error;
    }
  }

  private createClient(python: string): LanguageClient {
    const settings = readSettings(vscode.workspace.getConfiguration("datasphere"));
    const serverOptions: ServerOptions = {
      command: python,
      args: [...SERVER_ARGS],
      options: { env: { ...process.env, PYTHONUNBUFFERED: "1" } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: "yaml" }],
      initializationOptions: initializationOptions(settings, this.context.globalStorageUri.fsPath),
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: 4 /* RevealOutputChannelOn.Never */,
      errorHandler: this.errorHandler(),
    };
    const client = new LanguageClient("datasphere", "DataSphere Jobs Toolkit", serverOptions, clientOptions);
    client.registerFeature(new DeclineWorkDoneProgress());
    client.onNotification(ServerNotification.console, (params: ConsoleParams) => this.onConsole.fire(params));
    client.onNotification(ServerNotification.log, (params: LogParams) => this.onLog.fire(params));
    client.onNotification(ServerNotification.jobChanged, (params: JobChangedParams) => this.onJobChanged.fire(params));
    client.onNotification(ServerNotification.progress, (params: ProgressParams) => this.onProgress.fire(params));
    client.onNotification(ServerNotification.runEnded, (params: RunEndedParams) => this.onRunEnded.fire(params));
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.setState("running");
        this.onReady.fire();
      } else if (event.newState === State.Starting) {
        this.setState("starting");
      } else if (this.stateValue !== "failed") {
        this.setState("stopped");
      }
    });
    return client;
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue, handled: true }),
      closed: (): CloseHandlerResult => {
        if (this.restartPolicy.shouldRestart(Date.now())) {
          this.toolkit.appendLine("The language server stopped unexpectedly; restarting it.");
          return { action: CloseAction.Restart, handled: true };
        }
        this.setState("failed");
        const message = "The DataSphere Jobs language server crashed 5 times in 3 minutes and was not restarted.";
        this.toolkit.appendLine(message);
        void vscode.window.showErrorMessage(message, "Restart").then((choice) => {
          if (choice === "Restart") {
            void this.restart();
          }
        });
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  /** Stops and starts the server again (e.g. after the interpreter setting changed). */
  async restart(): Promise<void> {
    this.restartPolicy.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.dispose(5000).catch((error: unknown) => this.log.warn(`Stopping the server: ${String(error)}`));
    }
    this.setState("stopped");
  }

  /** Runs a server command (`workspace/executeCommand`) with its one object argument; starts the server if needed. */
  async execute<T>(command: string, argument: object = {}): Promise<T> {
    const client = await this.readyClient();
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] })) as T;
  }

  /**
   * Like `execute`, for commands whose argument holds a secret: JSON-RPC tracing is off while it is sent, so
   * the token never reaches the DataSphere Jobs Toolkit Logs channel even when the user traces messages.
   */
  async executeSecret<T>(command: string, argument: object): Promise<T> {
    const client = await this.readyClient();
    await client.setTrace(Trace.Off);
    try {
      return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] })) as T;
    } finally {
      await client.setTrace(this.configuredTrace());
    }
  }

  /** The trace level the client runs with (what vscode-languageclient derives from the log level and setting). */
  private configuredTrace(): Trace {
    if (this.log.logLevel !== vscode.LogLevel.Trace) {
      return Trace.Off;
    }
    const trace = Trace.fromString(vscode.workspace.getConfiguration("datasphere").get<string>("trace.server", "messages"));
    return trace === Trace.Off ? Trace.Messages : trace;
  }

  /** Sends the current settings (`workspace/didChangeConfiguration`). */
  async sendSettings(): Promise<void> {
    if (!this.client?.isRunning()) {
      return;
    }
    const settings = readSettings(vscode.workspace.getConfiguration("datasphere"));
    await this.client.sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(settings));
  }

  private async readyClient(): Promise<LanguageClient> {
    if (!this.client?.isRunning()) {
      await this.start();
    }
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new Error("The DataSphere Jobs language server is not running (see the DataSphere Jobs Toolkit output).");
    }
    return client;
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}
