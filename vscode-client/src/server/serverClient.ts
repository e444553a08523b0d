/**
 * The dsjobs language server's lifecycle: run from its private environment (set up on first use), told the
 * user's interpreter for the environment analysis, restarted after a crash, its state in the status bar;
 * custom notifications re-emitted as events that survive restarts.
 */

import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  MessageType,
  ShowMessageNotification,
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
import { SERVER_ARGS, USER_PYTHON_ENV } from "./interpreter";
import { interpreterExecutable, resolveInterpreter } from "./pythonEnvironment";
import { ensureServerEnvironment, ServerSetupError } from "./serverEnvironment";
import { DeclineWorkDoneProgress } from "./progressCapability";
import { SERVER_OUTCOME_MESSAGE } from "../run/outcomeMessages";
import { RestartPolicy } from "./restartPolicy";

export type ServerState = "stopped" | "starting" | "settingUp" | "running" | "setupFailed" | "failed";

const STATE_TEXT: Record<ServerState, { text: string; tooltip: string }> = {
  stopped: { text: "$(circle-slash) DataSphere", tooltip: "DataSphere Jobs server stopped — click to restart" },
  starting: { text: "$(loading~spin) DataSphere", tooltip: "DataSphere Jobs server starting" },
  settingUp: { text: "$(loading~spin) DataSphere: setting up", tooltip: "Installing the DataSphere Jobs server into its own environment (first run)" },
  running: { text: "$(cloud) DataSphere", tooltip: "DataSphere Jobs server running" },
  setupFailed: { text: "$(error) DataSphere: not set up", tooltip: "The DataSphere Jobs server could not be set up — click to retry" },
  failed: { text: "$(error) DataSphere", tooltip: "DataSphere Jobs server failed — click to restart" },
};

/** What a user action says while the server is not ready (the status bar item says the same). */
const NOT_READY: Partial<Record<ServerState, string>> = {
  settingUp: "The DataSphere Jobs server is being set up (first run); this waits for it.",
  starting: "The DataSphere Jobs server is starting; this waits for it.",
};

/** The server's `window/showMessage`, except a run's closing message: the extension words that itself. */
function showServerMessage(type: MessageType, message: string): void {
  if (SERVER_OUTCOME_MESSAGE.test(message)) {
    return;
  }
  if (type === MessageType.Error) {
    void vscode.window.showErrorMessage(message);
  } else if (type === MessageType.Warning) {
    void vscode.window.showWarningMessage(message);
  } else {
    void vscode.window.showInformationMessage(message);
  }
}

/** Owns the LanguageClient; everything else talks to the server through it. */
export class DsjobsServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly statusItem = vscode.window.createStatusBarItem("datasphere.server", vscode.StatusBarAlignment.Left, 10);
  private readonly restartPolicy = new RestartPolicy();
  private stateValue: ServerState = "stopped";
  /** Why the last start failed, with the fix (shown by commands run meanwhile). */
  private problem: string | undefined;
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

  /** While the server is not ready: a line saying so and what happens or what to do; undefined when ready. */
  get notReadyMessage(): string | undefined {
    if (this.client?.isRunning()) {
      return undefined;
    }
    return NOT_READY[this.stateValue] ?? this.problem;
  }

  private setState(state: ServerState, problem?: string): void {
    this.stateValue = state;
    this.problem = problem;
    this.statusItem.text = STATE_TEXT[state].text;
    this.statusItem.tooltip = problem ? `${problem} — click to retry` : STATE_TEXT[state].tooltip;
    this.statusItem.backgroundColor =
      state === "setupFailed" || state === "failed" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
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
    const userPython = await interpreterExecutable(await resolveInterpreter());
    let serverPython: string;
    try {
      serverPython = await ensureServerEnvironment({
        extensionPath: this.context.extensionPath,
        storagePath: this.context.globalStorageUri.fsPath,
        userPython,
        log: this.toolkit,
        onSetup: () => this.setState("settingUp"),
      });
    } catch (error) {
      this.setupFailed(error);
      return;
    }
    this.toolkit.appendLine(`Starting the DataSphere Jobs server (${serverPython}); environment analysis runs in ${userPython}.`);
    this.log.info(`Starting the language server: ${serverPython} ${SERVER_ARGS.join(" ")}`);
    await vscode.workspace.fs.createDirectory(this.context.globalStorageUri);
    const client = this.createClient(serverPython, userPython);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.setState("failed", `The DataSphere Jobs server failed to start: ${String(error)}`);
      this.toolkit.appendLine(`The language server failed to start: ${String(error)}`);
      throw error;
    }
  }

  /** The setup failed: a modal with the fix (it must not slide away), the status bar in error, a log line. */
  private setupFailed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof ServerSetupError ? error.hint : "";
    this.setState("setupFailed", message);
    this.toolkit.appendLine(`${message}${hint ? ` ${hint}` : ""} The server is not running.`);
    void vscode.window
      .showErrorMessage(message, { modal: true, detail: hint || undefined }, "Retry", "Open Settings", "Show Log")
      .then(async (choice) => {
        if (choice === "Retry") {
          await this.restart();
        } else if (choice === "Open Settings") {
          await vscode.commands.executeCommand("workbench.action.openSettings", "datasphere.pythonPath");
        } else if (choice === "Show Log") {
          this.toolkit.show(true);
        }
      });
  }

  private createClient(python: string, userPython: string): LanguageClient {
    const settings = readSettings(vscode.workspace.getConfiguration("datasphere"));
    const serverOptions: ServerOptions = {
      command: python,
      args: [...SERVER_ARGS],
      options: { env: { ...process.env, PYTHONUNBUFFERED: "1", [USER_PYTHON_ENV]: userPython } },
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
    client.onNotification(ShowMessageNotification.type, (params) => showServerMessage(params.type, params.message));
    client.onNotification(ServerNotification.console, (params: ConsoleParams) => this.onConsole.fire(params));
    client.onNotification(ServerNotification.log, (params: LogParams) => this.onLog.fire(params));
    client.onNotification(ServerNotification.jobChanged, (params: JobChangedParams) => this.onJobChanged.fire(params));
    client.onNotification(ServerNotification.progress, (params: ProgressParams) => this.onProgress.fire(params));
    client.onNotification(ServerNotification.runEnded, (params: RunEndedParams) => this.onRunEnded.fire(params));
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.setState("running");
        this.toolkit.appendLine("The DataSphere Jobs server is running.");
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
        const message = "The DataSphere Jobs language server crashed 5 times in 3 minutes and was not restarted.";
        this.setState("failed", message);
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
    if (this.starting && this.stateValue === "settingUp") {
      this.toolkit.show(true); // the setup is under way: show its log rather than start over
      return;
    }
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
      const problem = this.problem ?? "The DataSphere Jobs server is not running (see the DataSphere Jobs Toolkit output).";
      throw new Error(`${problem} Click DataSphere in the status bar to retry.`);
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
