/** `DataSphere Jobs: Set OAuth token` / `Remove OAuth token`: the token lives in SecretStorage and server memory. */

import * as vscode from "vscode";
import { ServerCommand } from "../protocol";
import type { DsjobsServer } from "../server/serverClient";
import { commandFailure } from "../server/commandError";
import { OAUTH_TOKEN_URL, validateTokenInput } from "./tokenInput";

const SECRET_KEY = "datasphere.oauthToken";

export class TokenManager {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly server: DsjobsServer,
    private readonly toolkit: vscode.OutputChannel,
  ) {}

  /** The command: offer the OAuth page (Open / Cancel), then a masked input box; store and hand to the server. */
  async setToken(): Promise<void> {
    const choice = await vscode.window.showInformationMessage(
      "DataSphere Jobs needs a Yandex OAuth token. Open the OAuth-token page to get one?",
      { modal: true, detail: "Copy the token from the page, then paste it into the input box." },
      "Open",
    );
    if (choice === "Open") {
      await vscode.env.openExternal(vscode.Uri.parse(OAUTH_TOKEN_URL));
    }
    const entered = await vscode.window.showInputBox({
      title: "Input OAuth-token",
      prompt: "Yandex OAuth token (kept in VS Code secret storage)",
      password: true,
      ignoreFocusOut: true,
      validateInput: validateTokenInput,
    });
    if (entered === undefined) {
      return;
    }
    await this.secrets.store(SECRET_KEY, entered.trim());
    await this.sendToServer(entered.trim());
    this.toolkit.appendLine("OAuth token saved.");
    void vscode.window.showInformationMessage("DataSphere Jobs: OAuth token saved.");
  }

  /** The command: forget the token here and in the server. */
  async removeToken(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
    try {
      await this.server.execute(ServerCommand.removeToken, {});
    } catch (error) {
      this.toolkit.appendLine(`Removing the token from the server: ${commandFailure(error).message}`);
    }
    this.toolkit.appendLine("OAuth token removed.");
    void vscode.window.showInformationMessage("DataSphere Jobs: OAuth token removed.");
  }

  /** Hands the stored token (if any) to a freshly started server, which keeps it in memory only. */
  async restoreToServer(): Promise<void> {
    const token = await this.secrets.get(SECRET_KEY);
    if (token) {
      await this.sendToServer(token);
    }
  }

  async hasToken(): Promise<boolean> {
    return Boolean(await this.secrets.get(SECRET_KEY));
  }

  private async sendToServer(token: string): Promise<void> {
    try {
      await this.server.executeSecret(ServerCommand.setToken, { token });
    } catch (error) {
      const failure = commandFailure(error);
      this.toolkit.appendLine(`Handing the token to the server failed: ${failure.message}`);
      void vscode.window.showErrorMessage(`DataSphere Jobs: the server did not accept the token: ${failure.message}`);
    }
  }
}
