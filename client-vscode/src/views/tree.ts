/** "Dockyard Tasks": tasks with their subtasks (by parentId), redrawn on every store change (no polling). */
import * as vscode from 'vscode';
import type { Task } from '../protocol';
import type { TaskStore } from '../state/taskStore';
import { stateIcon } from './icons';

export interface TaskNode {
  task: Task;
  children: TaskNode[];
}

/** Roots are tasks without a (known) parent; children follow their parent, oldest first. */
export function buildForest(tasks: readonly Task[]): TaskNode[] {
  const sorted = [...tasks].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const nodes = new Map(sorted.map((task) => [task.id, { task, children: [] as TaskNode[] }]));
  const roots: TaskNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.task.parentId ? nodes.get(node.task.parentId) : undefined;
    if (parent && !isAncestor(node, parent, nodes)) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** Guards against a parent cycle in bad data: would `node` be an ancestor of `candidate`? */
function isAncestor(node: TaskNode, candidate: TaskNode, nodes: Map<string, TaskNode>): boolean {
  const seen = new Set<string>();
  for (let cur: TaskNode | undefined = candidate; cur; cur = cur.task.parentId ? nodes.get(cur.task.parentId) : undefined) {
    if (cur === node) return true;
    if (seen.has(cur.task.id)) return true;
    seen.add(cur.task.id);
  }
  return false;
}

export function contextValue(task: Task): string {
  return `dockyardTask.${task.state}`;
}

export function describeTask(task: Task): string {
  const reason = task.reason ? ` (${task.reason})` : '';
  return `${task.state}${reason} · ${task.id}`;
}

export function taskTooltip(task: Task): string {
  const lines = [
    `**${task.title}** \`${task.id}\``,
    '',
    `state: ${task.state}${task.reason ? ` — ${task.reason}` : ''}`,
    `image: \`${task.image}\``,
  ];
  if (task.branch) lines.push(`branch: \`${task.branch}\``);
  if (task.parentId) lines.push(`subtask of \`${task.parentId}\``);
  return lines.join('  \n');
}

export function taskTreeItem(node: TaskNode): vscode.TreeItem {
  const { task } = node;
  const item = new vscode.TreeItem(
    task.title,
    node.children.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
  );
  const icon = stateIcon(task.state);
  item.id = task.id;
  item.description = describeTask(task);
  item.tooltip = new vscode.MarkdownString(taskTooltip(task));
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.contextValue = contextValue(task);
  item.command = { command: 'dockyard.task.showStatus', title: 'Show Task Status', arguments: [task.id] };
  return item;
}

export class TaskTreeProvider implements vscode.TreeDataProvider<TaskNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TaskNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TaskNode[] = [];
  private parents = new Map<string, TaskNode>();
  private readonly subscription: { dispose(): void };

  constructor(private readonly store: TaskStore) {
    this.rebuild();
    this.subscription = store.onDidChange(() => {
      this.rebuild();
      this.changed.fire(undefined);
    });
  }

  getTreeItem(node: TaskNode): vscode.TreeItem {
    return taskTreeItem(node);
  }

  getChildren(node?: TaskNode): TaskNode[] {
    return node ? node.children : this.roots;
  }

  getParent(node: TaskNode): TaskNode | undefined {
    return this.parents.get(node.task.id);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  private rebuild(): void {
    this.roots = buildForest(this.store.all());
    this.parents.clear();
    const walk = (node: TaskNode): void => {
      for (const child of node.children) {
        this.parents.set(child.task.id, node);
        walk(child);
      }
    };
    this.roots.forEach(walk);
  }
}
