/** The Launch History tree: filled from `dsjobs.history`, live from `dsjobs/jobChanged`; its item actions. */

import { readFile } from "node:fs/promises";
import * as vscode from "vscode";
import { ServerCommand, type Job } from "../protocol";
import { wantsGracefulShutdown } from "../run/outcomeMessages";
import { commandFailure } from "../server/commandError";
import { jobItemModel, jobLabel, mergeJob, sortJobs } from "./historyModel";

/** What the view needs from the server. */
export interface HistoryServer {
  execute<T>(command: string, argument: object): Promise<T>;
}

export class HistoryProvider implements vscode.TreeDataProvider<Job> {
  private jobs: Job[] = [];
  private readonly changed = new vscode.EventEmitter<Job | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly server: HistoryServer,
    private readonly toolkit: vscode.OutputChannel,
  ) {}

  /** Reloads the whole list from the server. */
  async refresh(): Promise<void> {
    try {
      const answer = await this.server.execute<{ jobs: Job[] }>(ServerCommand.history, {});
      this.jobs = sortJobs(answer.jobs);
    } catch (error) {
      this.toolkit.appendLine(`Loading the launch history failed: ${commandFailure(error).message}`);
    }
    this.changed.fire(undefined);
  }

  /** Applies one `dsjobs/jobChanged`. */
  update(job: Job): void {
    this.jobs = mergeJob(this.jobs, job);
    this.changed.fire(undefined);
  }

  get all(): readonly Job[] {
    return this.jobs;
  }

  getTreeItem(job: Job): vscode.TreeItem {
    const model = jobItemModel(job);
    const item = new vscode.TreeItem(model.label, vscode.TreeItemCollapsibleState.None);
    item.id = model.id;
    item.description = model.description;
    item.tooltip = model.tooltip;
    item.contextValue = model.contextValue;
    item.iconPath = new vscode.ThemeIcon(model.icon, model.iconColor ? new vscode.ThemeColor(model.iconColor) : undefined);
    item.accessibilityInformation = { label: `${model.label}, ${model.description}` };
    return item;
  }

  getChildren(element?: Job): Job[] {
    return element ? [] : this.jobs;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** True when the job ran from a config.yaml that has `graceful-shutdown` (unreadable files: false). */
async function configWantsGracefulShutdown(job: Job): Promise<boolean> {
  if (!job.configPath) {
    return false;
  }
  try {
    return wantsGracefulShutdown(await readFile(job.configPath, "utf8"));
  } catch {
    return false;
  }
}

/** The item actions: Cancel, Attach, Copy job ID, Open job. */
export function registerHistoryCommands(provider: HistoryProvider, server: HistoryServer): vscode.Disposable {
  const cancel = async (job: Job): Promise<void> => {
    let graceful = false;
    if (await configWantsGracefulShutdown(job)) {
      const choice = await vscode.window.showInformationMessage(
        `Cancel DataSphere job ${jobLabel(job)}? Its config has graceful-shutdown: the job can be signalled and given time to stop.`,
        { modal: true },
        "Graceful Shutdown",
        "Cancel Now",
      );
      if (!choice) {
        return;
      }
      graceful = choice === "Graceful Shutdown";
    }
    try {
      await server.execute(ServerCommand.cancel, { jobId: job.id, graceful });
      void vscode.window.setStatusBarMessage(`DataSphere Jobs: cancelling job ${jobLabel(job)}`, 5000);
    } catch (error) {
      void vscode.window.showErrorMessage(`Cancel failed: ${commandFailure(error).message}`);
    }
  };
  const attach = async (job: Job): Promise<void> => {
    await vscode.debug.startDebugging(undefined, {
      type: "datasphere",
      request: "attach",
      name: `Attach to ${jobLabel(job)}`,
      jobId: job.id,
    });
  };
  const copyId = async (job: Job): Promise<void> => {
    await vscode.env.clipboard.writeText(job.id);
    void vscode.window.setStatusBarMessage(`Copied job ID ${job.id}`, 3000);
  };
  const open = async (job: Job): Promise<void> => {
    let link = job.link;
    if (!link) {
      try {
        link = (await server.execute<{ link: string | null }>(ServerCommand.jobLink, { jobId: job.id })).link;
      } catch (error) {
        void vscode.window.showErrorMessage(`No link for job ${jobLabel(job)}: ${commandFailure(error).message}`);
        return;
      }
    }
    if (link) {
      await vscode.env.openExternal(vscode.Uri.parse(link));
    } else {
      void vscode.window.showInformationMessage(`Job ${jobLabel(job)} has no link yet.`);
    }
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand("datasphere.history.refresh", () => provider.refresh()),
    vscode.commands.registerCommand("datasphere.history.cancel", cancel),
    vscode.commands.registerCommand("datasphere.history.attach", attach),
    vscode.commands.registerCommand("datasphere.history.copyId", copyId),
    vscode.commands.registerCommand("datasphere.history.open", open),
  );
}
