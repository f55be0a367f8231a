import * as vscode from 'vscode';
import type { Ui } from './ui';

export function createVscodeUi(): Ui {
  return {
    pick: async (items, options) =>
      vscode.window.showQuickPick([...items], { title: options.title, placeHolder: options.placeHolder, matchOnDescription: true }),
    pickMany: async (items, options) =>
      vscode.window.showQuickPick([...items], { title: options.title, placeHolder: options.placeHolder, canPickMany: true }),
    input: async (options) =>
      vscode.window.showInputBox({
        title: options.title,
        prompt: options.prompt,
        placeHolder: options.placeHolder,
        value: options.value,
        validateInput: options.validateInput,
        ignoreFocusOut: true,
      }),
    info: async (message, ...actions) => vscode.window.showInformationMessage(message, ...actions),
    error: async (message, ...actions) => vscode.window.showErrorMessage(message, ...actions),
    confirm: async (message, detail, ...actions) => vscode.window.showWarningMessage(message, { modal: true, detail }, ...actions),
    withProgress: async (title, cancellable, work) =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, (_progress, token) => work(token)),
  };
}
