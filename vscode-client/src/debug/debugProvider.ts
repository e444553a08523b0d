/** Registers the `datasphere` debug type: the Run and Debug entry, launch.json defaults, the inline adapter. */

import * as vscode from "vscode";
import { DatasphereDebugAdapter, type AdapterServices } from "./inlineAdapter";

export const DEBUG_TYPE = "datasphere";
export const RUN_FILE_CONFIG_NAME = "Run File in DataSphere Jobs";

class DatasphereConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly openForm: (file: vscode.Uri) => void) {}

  /** The Run and Debug dropdown's dynamic entry (and the initial launch.json entry). */
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [{ type: DEBUG_TYPE, request: "launch", name: RUN_FILE_CONFIG_NAME, program: "${file}" }];
  }

  /**
   * F5 without launch.json opens the configuration form for the active Python file (as Run File does; the
   * form's Invoke starts the run); an entry without `program` runs the active file.
   */
  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId !== "python") {
        void vscode.window.showInformationMessage("DataSphere Jobs: open a Python file, then press F5 to configure and run it.");
        return undefined;
      }
      this.openForm(editor.document.uri);
      return undefined;
    }
    if (config.request === "launch" && !config.program) {
      config.program = "${file}";
    }
    return config;
  }
}

class InlineAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly services: AdapterServices) {}

  createDebugAdapterDescriptor(): vscode.DebugAdapterDescriptor {
    return new vscode.DebugAdapterInlineImplementation(new DatasphereDebugAdapter(this.services));
  }
}

/** Registers the providers and the adapter factory of the `datasphere` type. */
export function registerDebugType(services: AdapterServices & { openForm: (file: vscode.Uri) => void }): vscode.Disposable {
  const provider = new DatasphereConfigurationProvider(services.openForm);
  return vscode.Disposable.from(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Initial),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new InlineAdapterFactory(services)),
  );
}
