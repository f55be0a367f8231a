/** Launches `<serverPath> serve --stdio` through vscode-languageclient and forwards its notifications.
 *  All logic lives in the daemon; this only starts, restarts and connects the DockyardApi. */
import * as vscode from 'vscode';
import type { Executable, LanguageClientOptions } from 'vscode-languageclient/node';
import { LanguageClient, State } from 'vscode-languageclient/node';
import type { DockyardApi } from '../api';
import { jsonRpcTransport } from '../api';
import { describeError } from '../errors';
import { Emitter } from '../events';
import type { NotificationBus } from '../io/notifications';
import type { ProgressTracker } from '../io/progress';
import type { DockyardCapabilities, NotificationMap } from '../protocol';
import { NOTIFICATION_METHODS, dockyardCapabilities } from '../protocol';
import { defaultResolveInput, resolveServerPath } from './serverPath';

export interface Settings {
  serverPath: string;
  defaultImage: string;
  trace: string;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('dockyard');
  return {
    serverPath: config.get<string>('serverPath', ''),
    defaultImage: config.get<string>('defaultImage', ''),
    trace: config.get<string>('trace.server', 'off'),
  };
}

export interface ConnectionDeps {
  api: DockyardApi;
  bus: NotificationBus;
  progress: ProgressTracker;
  log: vscode.OutputChannel;
}

export class DaemonConnection implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly connected = new Emitter<DockyardCapabilities>();
  private readonly disconnected = new Emitter<string>();
  readonly onDidConnect = this.connected.event;
  readonly onDidDisconnect = this.disconnected.event;

  constructor(private readonly deps: ConnectionDeps) {}

  async start(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const settings = readSettings();
    const resolved = resolveServerPath(defaultResolveInput(settings.serverPath, folder?.uri.fsPath));
    if (resolved.path === undefined) {
      const reason = `the dockyard executable was not found (tried ${resolved.tried.join(', ')})`;
      this.down(reason);
      const choice = await vscode.window.showErrorMessage(`Dockyard: ${reason}. Set "dockyard.serverPath".`, 'Open Settings');
      if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', 'dockyard.serverPath');
      return;
    }
    this.deps.log.appendLine(`[dockyard] starting ${resolved.path} serve --stdio (found via ${resolved.source})`);
    const server: Executable = { command: resolved.path, args: ['serve', '--stdio'], options: { cwd: folder?.uri.fsPath } };
    const options: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.deps.log,
      workspaceFolder: folder,
      initializationOptions: { client: 'vscode', settings },
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          this.deps.progress.handle(token, params);
          next(token, params);
        },
      },
    };
    const client = new LanguageClient('dockyard', 'Dockyard', server, options);
    for (const method of NOTIFICATION_METHODS) {
      client.onNotification(method, (params: NotificationMap[typeof method]) => this.deps.bus.fire(method, params));
    }
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.up(client);
      else if (e.newState === State.Stopped && this.client === client) this.down('the daemon stopped');
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.down(`it failed to start: ${describeError(error)}`);
      const choice = await vscode.window.showErrorMessage(`Dockyard: the daemon failed to start: ${describeError(error)}`, 'Show Output');
      if (choice) this.deps.log.show(true);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.down('stopped');
    if (client?.isRunning()) await client.stop();
    else await client?.dispose().catch(() => undefined);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    this.connected.dispose();
    this.disconnected.dispose();
  }

  private up(client: LanguageClient): void {
    const caps = dockyardCapabilities(client.initializeResult);
    if (!caps) {
      this.down('it did not announce capabilities.experimental.dockyard (is serverPath a Dockyard daemon?)');
      return;
    }
    this.deps.log.appendLine(`[dockyard] connected: daemon ${caps.serverVersion}, protocol ${caps.protocolVersion}, ${caps.features.length} methods`);
    this.deps.api.connect(jsonRpcTransport(client), caps);
    this.connected.fire(caps);
  }

  private down(reason: string): void {
    this.deps.progress.clear();
    this.deps.api.disconnect(reason);
    this.disconnected.fire(reason);
  }
}
