/** The Settings view of the DataSphere Jobs container: current backend/project and shortcuts. */

import * as vscode from "vscode";
import { readSettings } from "./settings";

interface SettingsEntry {
  label: string;
  description?: string;
  icon: string;
  command: string;
  args?: unknown[];
}

export class SettingsViewProvider implements vscode.TreeDataProvider<SettingsEntry> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(entry: SettingsEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(entry.label);
    item.description = entry.description;
    item.iconPath = new vscode.ThemeIcon(entry.icon);
    item.command = { title: entry.label, command: entry.command, arguments: entry.args };
    return item;
  }

  getChildren(): SettingsEntry[] {
    const settings = readSettings(vscode.workspace.getConfiguration("datasphere"));
    return [
      { label: "Open settings", icon: "gear", command: "datasphere.openSettings" },
      { label: "Backend", description: settings.backend, icon: "server", command: "workbench.action.openSettings", args: ["datasphere.backend"] },
      { label: "Project", description: settings.project || "(default)", icon: "project", command: "workbench.action.openSettings", args: ["datasphere.project"] },
      { label: "Set OAuth token", icon: "key", command: "datasphere.setToken" },
      { label: "Remove OAuth token", icon: "trash", command: "datasphere.removeToken" },
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Opens the Settings editor filtered to this extension. */
export async function openExtensionSettings(extensionId: string): Promise<void> {
  await vscode.commands.executeCommand("workbench.action.openSettings", `@ext:${extensionId}`);
}
