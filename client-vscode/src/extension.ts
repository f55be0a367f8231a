/** Entry point: launch the daemon client and wire views and commands to it. No Dockyard logic lives here. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { DockyardApi } from './api';
import type { CommandContext, TerminalOptions } from './commands/context';
import { CMD } from './commands/ids';
import { commandHandler, tableIds } from './commands/index';
import { reportError, runSafely } from './commands/safe';
import { NotificationBus } from './io/notifications';
import { OutputRouter } from './io/outputRouter';
import { ProgressTracker } from './io/progress';
import { SessionPty, SessionRouter } from './io/sessionTerminal';
import type { Task } from './protocol';
import { M, N } from './protocol';
import { DaemonConnection, readSettings } from './server/connection';
import { TaskStore } from './state/taskStore';
import { StatusBarController } from './views/statusBar';
import { STATUS_SCHEME, TaskStatusDocuments } from './views/statusDocProvider';
import { TaskTreeProvider } from './views/tree';
import { createVscodeUi } from './vscodeUi';

let connection: DaemonConnection | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const sub = (...items: vscode.Disposable[]): void => void context.subscriptions.push(...items);
  const log = vscode.window.createOutputChannel('Dockyard');
  const api = new DockyardApi();
  const store = new TaskStore();
  const bus = new NotificationBus();
  const progress = new ProgressTracker();
  const sessions = new SessionRouter();
  const outputs = new OutputRouter((name) => vscode.window.createOutputChannel(name), (id) => store.get(id)?.title);
  const docs = new TaskStatusDocuments(api);
  const tree = new TaskTreeProvider(store);
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  const statusBar = new StatusBarController(item, progress, CMD.taskActions);
  connection = new DaemonConnection({ api, bus, progress, log });
  sub(log, outputs, docs, tree, item, connection);
  sub(vscode.window.createTreeView('dockyard.tasks', { treeDataProvider: tree, showCollapseAll: true }));
  sub(vscode.workspace.registerTextDocumentContentProvider(STATUS_SCHEME, docs));

  sub(
    bus.on(N.taskChanged, ({ task }) => {
      store.apply(task);
      docs.refresh(task.id);
    }),
    bus.on(N.status, ({ counts }) => statusBar.setCounts(counts)),
    bus.on(N.output, (o) => outputs.onOutput(o)),
    bus.on(N.execExited, (e) => outputs.onExecExited(e)),
    bus.on(N.sessionOutput, (s) => sessions.onOutput(s)),
    bus.on(N.sessionExited, (s) => sessions.onExited(s)),
  );

  const ui = createVscodeUi();
  const ctx: CommandContext = {
    api,
    ui,
    store,
    outputs,
    statusDocs: docs,
    settings: () => ({ defaultImage: readSettings().defaultImage }),
    execute: async (command, ...args) => vscode.commands.executeCommand(command, ...args),
    newId: () => randomBytes(4).toString('hex'),
    terminals: {
      open: (task: Task, options?: TerminalOptions) => {
        const pty = new SessionPty(api, sessions, { taskId: task.id, sessionId: options?.sessionId }, (e) => void reportError(ctx, e));
        const name = options?.name ?? `Dockyard: ${task.title}`;
        vscode.window.createTerminal({ name, pty, iconPath: new vscode.ThemeIcon('package') }).show();
      },
    },
  };

  const refresh = async (): Promise<void> => {
    const { tasks } = await api.request(M.listTasks, {});
    store.reset(tasks);
    statusBar.setCounts(store.counts());
  };
  connection.onDidConnect(() => {
    statusBar.setOffline(undefined);
    void runSafely(ctx, refresh);
  });
  connection.onDidDisconnect((reason) => {
    statusBar.setOffline(reason);
    store.clear();
  });

  for (const id of tableIds()) sub(vscode.commands.registerCommand(id, commandHandler(ctx, id)));
  sub(
    vscode.commands.registerCommand(CMD.refresh, () => runSafely(ctx, refresh)),
    vscode.commands.registerCommand(CMD.restartServer, () => runSafely(ctx, async () => connection?.restart())),
    vscode.commands.registerCommand(CMD.showServerOutput, () => log.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('dockyard.serverPath')) return;
      const choice = await vscode.window.showInformationMessage('Dockyard: serverPath changed.', 'Restart Server');
      if (choice) await vscode.commands.executeCommand(CMD.restartServer);
    }),
  );

  void connection.start();
}

export async function deactivate(): Promise<void> {
  await connection?.stop();
  connection = undefined;
}
