/** Serves `dockyard-task:/<taskId>.md` documents and refreshes them when their task changes. */
import * as vscode from 'vscode';
import type { DockyardApi } from '../api';
import { describeError } from '../errors';
import type { Diff, Task } from '../protocol';
import { M } from '../protocol';
import type { CheckpointInfo } from './statusDoc';
import { renderMissingTask, renderTaskStatus } from './statusDoc';

export const STATUS_SCHEME = 'dockyard-task';

export function statusUri(taskId: string): vscode.Uri {
  return vscode.Uri.from({ scheme: STATUS_SCHEME, path: `/${taskId}.md` });
}

export function taskIdOfUri(uri: vscode.Uri): string {
  return uri.path.replace(/^\//, '').replace(/\.md$/, '');
}

export class TaskStatusDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly shown = new Set<string>();

  constructor(private readonly api: DockyardApi) {}

  async show(taskId: string): Promise<void> {
    const uri = statusUri(taskId);
    this.shown.add(taskId);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    this.changed.fire(uri);
  }

  /** Called for every dockyard/taskChanged: re-render if that task's document was opened. */
  refresh(taskId: string): void {
    if (this.shown.has(taskId)) this.changed.fire(statusUri(taskId));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const taskId = taskIdOfUri(uri);
    try {
      const status = await this.api.request(M.getTask, { taskId, include: ['stats', 'inspect', 'top', 'git'] });
      const [checkpoints, diff] = await Promise.all([this.checkpoints(taskId), this.diff(status.task)]);
      return renderTaskStatus(status, { checkpoints, diff }, new Date());
    } catch (error) {
      return renderMissingTask(taskId, describeError(error));
    }
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async diff(task: Task): Promise<Diff | undefined> {
    if (!task.branch || !this.api.supports(M.diffTask)) return undefined;
    return this.api.request(M.diffTask, { taskId: task.id, stat: true }).catch(() => undefined);
  }

  private async checkpoints(taskId: string): Promise<CheckpointInfo> {
    if (!this.api.supports(M.listCheckpoints)) return { kind: 'unsupported' };
    try {
      const result = await this.api.request(M.listCheckpoints, { taskId });
      return { kind: 'list', checkpoints: Array.isArray(result.checkpoints) ? result.checkpoints : [] };
    } catch (error) {
      return { kind: 'error', message: describeError(error) };
    }
  }
}
