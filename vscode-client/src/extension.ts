/** Entry point: wires the language server, the views, the form, the debug type and the commands together. */

import * as vscode from "vscode";
import { TokenManager } from "./auth/token";
import { isFinal, type RunEndedParams } from "./protocol";
import { jobLabel } from "./history/historyModel";
import { outcomeMessage } from "./run/outcomeMessages";
import { registerDebugType } from "./debug/debugProvider";
import { FormPanel } from "./form/formPanel";
import { HistoryProvider, registerHistoryCommands } from "./history/historyView";
import { ChannelWriter, createChannels, ProgressNotifier, RunningJobsStatus } from "./run/runFeedback";
import { RunRouter } from "./run/runRouter";
import { DsjobsServer } from "./server/serverClient";
import { changedKeys, RESTART_SETTING_KEYS, SERVER_SETTING_KEYS } from "./settings";
import { openExtensionSettings, SettingsViewProvider } from "./settingsView";

/** Resolves the Python file a Run File command targets: the clicked file, else the active editor's. */
function targetFile(uri: vscode.Uri | undefined): vscode.Uri | undefined {
  if (uri instanceof vscode.Uri) {
    return uri;
  }
  const document = vscode.window.activeTextEditor?.document;
  return document && (document.languageId === "python" || document.fileName.endsWith(".py")) ? document.uri : undefined;
}

/** The notification closing a run, naming the job as the history does. */
function announceOutcome(params: RunEndedParams, history: HistoryProvider): void {
  const job = history.all.find((candidate) => candidate.id === params.jobId);
  const message = outcomeMessage(params, job ? jobLabel(job) : (params.jobId ?? "?"));
  if (message?.level === "info") {
    void vscode.window.showInformationMessage(message.text);
  } else if (message) {
    void vscode.window.showErrorMessage(message.text);
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const channels = createChannels();
  const server = new DsjobsServer(context, channels.logs, channels.toolkit);
  const router = new RunRouter();
  const writer = new ChannelWriter(channels);
  const progress = new ProgressNotifier();
  const runningStatus = new RunningJobsStatus();
  const tokens = new TokenManager(context.secrets, server, channels.toolkit);
  const history = new HistoryProvider(server, channels.toolkit);
  const settingsView = new SettingsViewProvider();
  const execute = <T>(command: string, argument: object): Promise<T> => server.execute<T>(command, argument);
  const notReady = (): string | undefined => server.notReadyMessage;
  const formServices = { execute, toolkit: channels.toolkit, memory: context.workspaceState, notReady };
  const openForm = (file: vscode.Uri): void => void FormPanel.show(context.extensionUri, formServices, file);

  context.subscriptions.push(
    channels.invocation,
    channels.toolkit,
    channels.logs,
    server,
    progress,
    runningStatus,
    history,
    settingsView,
    server.onConsole.event((params) => {
      writer.console(params);
      router.console(params);
    }),
    server.onLog.event((params) => {
      writer.log(params);
      router.log(params);
    }),
    server.onJobChanged.event(({ job }) => {
      writer.jobChanged(job);
      history.update(job);
      runningStatus.jobChanged(job);
      router.jobChanged(job);
      if (isFinal(job.status)) {
        progress.jobEnded(job.id);
      }
    }),
    server.onProgress.event((params) => progress.update(params)),
    server.onRunEnded.event((params) => {
      writer.runEnded(params);
      progress.runEnded(params);
      router.runEnded(params);
      announceOutcome(params, history);
    }),
    server.onReady.event(async () => {
      await tokens.restoreToServer();
      await history.refresh();
      history.all.forEach((job) => runningStatus.jobChanged(job));
    }),
    vscode.window.registerTreeDataProvider("datasphere.history", history),
    vscode.window.registerTreeDataProvider("datasphere.settings", settingsView),
    registerHistoryCommands(history, server),
    registerDebugType({
      execute,
      router,
      notReady,
      openForm,
      onRunRejected: (program, errors) => FormPanel.showRunErrors(program, errors),
    }),
    vscode.commands.registerCommand("datasphere.setToken", () => tokens.setToken()),
    vscode.commands.registerCommand("datasphere.removeToken", () => tokens.removeToken()),
    vscode.commands.registerCommand("datasphere.restartServer", () => server.restart()),
    vscode.commands.registerCommand("datasphere.openSettings", () => openExtensionSettings(context.extension.id)),
    vscode.commands.registerCommand("datasphere.runFile", (uri?: vscode.Uri) => {
      const file = targetFile(uri);
      if (!file) {
        void vscode.window.showWarningMessage("Run File in DataSphere Jobs: open or select a Python file first.");
        return;
      }
      openForm(file);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      const affects = (section: string): boolean => event.affectsConfiguration(section);
      if (changedKeys(affects, RESTART_SETTING_KEYS).length > 0) {
        await server.restart();
      } else if (changedKeys(affects, SERVER_SETTING_KEYS).length > 0) {
        await server.sendSettings();
        await history.refresh();
      }
      settingsView.refresh();
    }),
  );

  server.start().catch((error: unknown) => channels.logs.error(`Language server start failed: ${String(error)}`));
}

export function deactivate(): void {
  // Disposables in context.subscriptions stop the server; running jobs are left running on purpose.
}
