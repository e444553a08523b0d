/** The DataSphere Job Configuration webview: the form for one Python file, backed by the server's LaunchConfig. */

import * as path from "node:path";
import * as vscode from "vscode";
import { ServerCommand, type FieldError, type LaunchConfig, type LocalResources, type ResolvedConfig } from "../protocol";
import { commandFailure } from "../server/commandError";
import { debugConfigFromLaunch } from "../debug/launchArgs";
import { formHtml, makeNonce } from "./formHtml";
import { resourceChoices } from "./localResources";
import {
  fromFormValues,
  groupErrors,
  hasBlockingErrors,
  INSTANCE_TYPES,
  parseWebviewMessage,
  toFormValues,
  type ExtensionToWebview,
  type FormAction,
  type FormValues,
} from "./formModel";

export interface FormServices {
  execute<T>(command: string, argument: object): Promise<T>;
  toolkit: vscode.OutputChannel;
  /** Where the last Invoke's values of each file are kept until Save (the workspace's state). */
  memory: vscode.Memento;
  /** What to say while the server is not ready; undefined when it is. */
  notReady(): string | undefined;
}

/** Marks the debug sessions a form started (so the form can tell when its job ended). */
const FORM_RUN_KEY = "__dsjobsFormRun";

/** The workspace-state key of a file's last Invoke. */
function lastInvokeKey(program: string): string {
  return `datasphere.lastInvoke:${program}`;
}

/** The line a form shows when its run ended (DAP custom event `dsjobsJobEnded` from the adapter). */
function endedStatus(body: { job?: string; status?: string | null; exitCode?: number | null; cancelled?: boolean }): {
  text: string;
  level: "info" | "error";
} {
  const job = body.job ? `Job ${body.job}` : "The job";
  if (body.status === "SUCCESS") {
    return { text: `${job} completed successfully — its log is in the Debug Console.`, level: "info" };
  }
  if (body.cancelled || body.status === "CANCELLED") {
    return { text: `${job} was cancelled.`, level: "info" };
  }
  const code = body.exitCode ? `, exit code ${body.exitCode}` : "";
  return { text: `${job} ended: ${body.status ?? "not finished"}${code} — see the Debug Console.`, level: "error" };
}

const VIEW_TYPE = "datasphere.jobConfiguration";

export class FormPanel implements vscode.Disposable {
  private static readonly open = new Map<string, FormPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private validation = 0;

  /** Opens (or reveals) the form for a Python file. */
  static show(extensionUri: vscode.Uri, services: FormServices, program: vscode.Uri): FormPanel {
    const existing = FormPanel.open.get(program.fsPath);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      `DataSphere Job Configuration: ${path.basename(program.fsPath)}`,
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist"), vscode.Uri.joinPath(extensionUri, "media")],
      },
    );
    const form = new FormPanel(panel, extensionUri, services, program.fsPath);
    FormPanel.open.set(program.fsPath, form);
    return form;
  }

  /** Shows server findings for a run of this program in its form, if the form is open. */
  static showRunErrors(program: string, errors: FieldError[]): void {
    FormPanel.open.get(program)?.post({ type: "errors", errors: groupErrors(errors) });
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly services: FormServices,
    private readonly program: string,
  ) {
    const webview = panel.webview;
    const asset = (...parts: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...parts)).toString();
    webview.html = formHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset("dist", "webview.js"),
      codiconsUri: asset("dist", "codicons", "codicon.css"),
      styleUri: asset("media", "form.css"),
    });
    this.disposables.push(
      webview.onDidReceiveMessage((message: unknown) => void this.onMessage(message)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(message: ExtensionToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      return;
    }
    switch (message.type) {
      case "ready":
        await this.loadInitial();
        break;
      case "changed":
        void this.offerResources(message.values.projectId);
        await this.validate(fromFormValues(message.values));
        break;
      case "action":
        await this.runAction(message.action, message.values);
        break;
      case "load":
        await this.load();
        break;
    }
  }

  /** The file's configuration from the server, or the values of its last Invoke (kept until Save). */
  private async loadInitial(): Promise<void> {
    const waiting = this.services.notReady();
    if (waiting) {
      this.status(waiting);
    }
    const remembered = this.services.memory.get<LaunchConfig>(lastInvokeKey(this.program));
    if (!(await this.loadFromServer(ServerCommand.resolveConfig, { file: this.program }, remembered))) {
      return; // the status says why
    }
    if (remembered) {
      this.status("The values of your last Invoke of this file (Save keeps them for good).");
    } else if (waiting) {
      this.status("");
    }
  }

  /** Fills the form from a server command; false (and the reason in the status line) when it failed. */
  private async loadFromServer(command: string, argument: object, override?: LaunchConfig): Promise<boolean> {
    try {
      const resolved = await this.services.execute<ResolvedConfig>(command, argument);
      const config = override ?? resolved.config;
      void this.offerResources(config.projectId ?? "");
      this.post({
        type: "init",
        values: toFormValues(config),
        errors: groupErrors(override ? await this.validate(config) : resolved.errors),
        instanceTypes: INSTANCE_TYPES,
        source: override ? "last Invoke" : resolved.source,
        launchEntries: resolved.launchEntries,
      });
      return true;
    } catch (error) {
      this.reportFailure("Loading the configuration failed", error);
      return false;
    }
  }

  /** The project whose resources the pickers offer (undefined: not asked yet). */
  private resourcesProject: string | undefined;

  /**
   * Offers the local backend's datasets and connectors of the project beside their fields, asked again when the
   * project changes. The cloud has none to offer; a failure only goes to the toolkit's log (the fields still work).
   */
  private async offerResources(projectId: string): Promise<void> {
    const project = projectId.trim();
    if (project === this.resourcesProject) {
      return;
    }
    this.resourcesProject = project;
    try {
      const resources = await this.services.execute<LocalResources>(ServerCommand.localResources, project ? { projectId: project } : {});
      if (project === this.resourcesProject) {
        this.post({ type: "resources", choices: resourceChoices(resources) });
      }
    } catch (error) {
      this.resourcesProject = undefined;
      this.services.toolkit.appendLine(`Listing the local datasets and connectors failed: ${commandFailure(error).message}`);
    }
  }

  private async validate(config: LaunchConfig): Promise<FieldError[]> {
    const ticket = ++this.validation;
    try {
      const { errors } = await this.services.execute<{ errors: FieldError[] }>(ServerCommand.validateConfig, { config });
      if (ticket === this.validation) {
        this.post({ type: "errors", errors: groupErrors(errors) });
      }
      return errors;
    } catch (error) {
      this.reportFailure("Validation failed", error);
      return [];
    }
  }

  private async runAction(action: FormAction, values: FormValues): Promise<void> {
    const config = fromFormValues(values);
    this.post({ type: "busy", busy: true });
    try {
      if (action === "save") {
        await this.save(config);
      } else if (action === "export") {
        await this.export(config);
      } else {
        await this.invoke(config);
      }
    } catch (error) {
      this.reportFailure(`${action[0]?.toUpperCase()}${action.slice(1)} failed`, error);
    } finally {
      this.post({ type: "busy", busy: false });
    }
  }

  private workspaceFolder(): string {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.program)) ?? vscode.workspace.workspaceFolders?.[0];
    return folder?.uri.fsPath ?? path.dirname(this.program);
  }

  private async save(config: LaunchConfig): Promise<void> {
    const answer = await this.services.execute<{ path: string; created: boolean }>(ServerCommand.saveLaunchConfig, {
      config,
      workspaceFolder: this.workspaceFolder(),
    });
    await this.services.memory.update(lastInvokeKey(this.program), undefined);
    this.status(`${answer.created ? "Added to" : "Updated"} ${answer.path}`);
  }

  private async export(config: LaunchConfig): Promise<void> {
    const base = config.workingDirectory || path.dirname(this.program);
    const target = await vscode.window.showSaveDialog({
      title: "Export config.yaml",
      defaultUri: vscode.Uri.file(path.join(base, "config.yaml")),
      filters: { "YAML": ["yaml", "yml"] },
    });
    if (!target) {
      return;
    }
    const answer = await this.services.execute<{ path: string }>(ServerCommand.exportConfig, { config, path: target.fsPath });
    this.status(`Exported to ${answer.path}`);
  }

  private async load(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      title: "Load a launch.json entry or a config.yaml",
      canSelectMany: false,
      defaultUri: vscode.Uri.file(this.workspaceFolder()),
      filters: { "Configurations": ["json", "yaml", "yml"] },
    });
    const file = picked?.[0]?.fsPath;
    if (!file) {
      return;
    }
    if (!file.endsWith(".json")) {
      await this.loadFromServer(ServerCommand.loadConfig, { path: file });
      return;
    }
    await this.loadLaunchEntry(file);
  }

  private async loadLaunchEntry(file: string): Promise<void> {
    let resolved: ResolvedConfig;
    try {
      resolved = await this.services.execute<ResolvedConfig>(ServerCommand.loadConfig, { path: file });
    } catch (error) {
      this.reportFailure("Loading failed", error);
      return;
    }
    let name = resolved.launchEntries[0];
    if (resolved.launchEntries.length > 1) {
      name = await vscode.window.showQuickPick(resolved.launchEntries, { title: "Which launch configuration?" });
      if (!name) {
        return;
      }
    }
    await this.loadFromServer(ServerCommand.loadConfig, { path: file, name });
  }

  private async invoke(config: LaunchConfig): Promise<void> {
    const errors = await this.validate(config);
    if (hasBlockingErrors(errors)) {
      this.status("Fix the errors before invoking.", "error");
      this.post({ type: "revealError" });
      return;
    }
    await this.services.memory.update(lastInvokeKey(this.program), config);
    const waiting = this.services.notReady();
    if (waiting) {
      this.status(waiting);
    }
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.program));
    const runMark = `${Date.now()}-${Math.random()}`;
    this.followRun(runMark);
    const configuration = { ...debugConfigFromLaunch(config, `DataSphere: ${path.basename(this.program)}`), [FORM_RUN_KEY]: runMark };
    const started = await vscode.debug.startDebugging(folder, configuration as unknown as vscode.DebugConfiguration);
    if (!started) {
      this.status("The run did not start.", "error");
    } else if (this.runMark === runMark) {
      this.status("Job started — see the Debug Console.");
    }
  }

  private runMark: string | undefined;
  private runListener: vscode.Disposable | undefined;

  /** Replaces "Job started" with the job's outcome when the run this form started ends. */
  private followRun(runMark: string): void {
    this.runMark = runMark;
    this.runListener?.dispose();
    this.runListener = vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
      if (event.event !== "dsjobsJobEnded" || event.session.configuration[FORM_RUN_KEY] !== runMark) {
        return;
      }
      const ended = endedStatus(event.body as Parameters<typeof endedStatus>[0]);
      this.runMark = undefined;
      this.status(ended.text, ended.level);
    });
    this.disposables.push(this.runListener);
  }

  private status(text: string, level: "info" | "error" = "info"): void {
    this.post({ type: "status", text, level });
  }

  private reportFailure(what: string, error: unknown): void {
    const failure = commandFailure(error);
    this.services.toolkit.appendLine(`${what}: ${failure.message}`);
    if (failure.errors.length > 0) {
      this.post({ type: "errors", errors: groupErrors(failure.errors) });
    }
    this.status(`${what}: ${failure.message}`, "error");
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    FormPanel.open.delete(this.program);
    this.panel.dispose();
    while (this.disposables.length) {
      this.disposables.pop()?.dispose();
    }
  }
}
