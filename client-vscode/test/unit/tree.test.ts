import { describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { TaskStore } from '../../src/state/taskStore';
import { STATE_ICONS } from '../../src/views/icons';
import { buildForest, TaskTreeProvider, taskTreeItem } from '../../src/views/tree';
import { task } from '../helpers';

const at = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}Z`;

describe('tree building', () => {
  it('nests subtasks under their parent, oldest first, at any depth', () => {
    const tasks = [
      task({ id: 't-000003', parentId: 't-000001', createdAt: at(3) }),
      task({ id: 't-000001', createdAt: at(1) }),
      task({ id: 't-000002', createdAt: at(2) }),
      task({ id: 't-000004', parentId: 't-000001', createdAt: at(2) }),
      task({ id: 't-000005', parentId: 't-000004', createdAt: at(5) }),
    ];
    const shape = (nodes: ReturnType<typeof buildForest>): unknown =>
      nodes.map((n) => (n.children.length ? { [n.task.id]: shape(n.children) } : n.task.id));
    expect(shape(buildForest(tasks))).toEqual([{ 't-000001': [{ 't-000004': ['t-000005'] }, 't-000003'] }, 't-000002']);
  });

  it('a subtask whose parent is gone shows at the top; a parent cycle cannot hide tasks', () => {
    const orphans = buildForest([task({ id: 't-00000a', parentId: 't-gone00' })]);
    expect(orphans.map((n) => n.task.id)).toEqual(['t-00000a']);
    const cycle = buildForest([task({ id: 't-00000a', parentId: 't-00000b' }), task({ id: 't-00000b', parentId: 't-00000a' })]);
    const count = (nodes: typeof cycle): number => nodes.reduce((n, node) => n + 1 + count(node.children), 0);
    expect(count(cycle)).toBe(2);
  });

  it('items carry a state icon, a context value for menus, and open the status on click', () => {
    const item = taskTreeItem({ task: task({ id: 't-00000a', title: 'parser', state: 'failed', reason: 'oom' }), children: [] });
    expect(item.label).toBe('parser');
    expect(item.description).toBe('failed (oom) · t-00000a');
    expect(item.contextValue).toBe('dockyardTask.failed');
    expect((item.iconPath as vscode.ThemeIcon).id).toBe('error');
    expect((item.iconPath as vscode.ThemeIcon).color).toEqual(new vscode.ThemeColor('errorForeground'));
    expect(item.collapsibleState).toBe(vscode.TreeItemCollapsibleState.None);
    expect(item.command?.arguments).toEqual(['t-00000a']);
    const parent = taskTreeItem({ task: task({ id: 't-00000b' }), children: [{ task: task({ id: 't-00000c' }), children: [] }] });
    expect(parent.collapsibleState).toBe(vscode.TreeItemCollapsibleState.Expanded);
  });

  it('every state has its own icon', () => {
    const ids = Object.values(STATE_ICONS).map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(STATE_ICONS).sort()).toEqual(
      ['creating', 'running', 'paused', 'stopped', 'failed', 'removed', 'lost', 'integrated', 'conflicted'].sort(),
    );
  });

  it('the provider redraws on store changes (taskChanged), with parents for reveal', () => {
    const store = new TaskStore();
    const provider = new TaskTreeProvider(store);
    let redraws = 0;
    provider.onDidChangeTreeData(() => (redraws += 1));
    store.apply(task({ id: 't-000001', createdAt: at(1) }));
    store.apply(task({ id: 't-000002', parentId: 't-000001', createdAt: at(2) }));
    expect(redraws).toBe(2);
    const [root] = provider.getChildren();
    const [child] = provider.getChildren(root);
    expect(child.task.id).toBe('t-000002');
    expect(provider.getParent(child)?.task.id).toBe('t-000001');
    store.apply(task({ id: 't-000002', state: 'removed', revision: 2 }));
    expect(provider.getChildren(provider.getChildren()[0])).toEqual([]);
  });
});

describe('task store', () => {
  it('ignores stale revisions and drops removed tasks', () => {
    const store = new TaskStore();
    expect(store.apply(task({ id: 't-1', state: 'running', revision: 3 }))).toBe(true);
    expect(store.apply(task({ id: 't-1', state: 'creating', revision: 2 }))).toBe(false);
    expect(store.get('t-1')?.state).toBe('running');
    store.reset([task({ id: 't-1', state: 'creating', revision: 1 }), task({ id: 't-2', state: 'paused' })]);
    expect(store.get('t-1')?.state).toBe('running');
    expect(store.counts()).toEqual({ running: 1, paused: 1 });
    store.apply(task({ id: 't-2', state: 'removed', revision: 9 }));
    expect(store.all().map((t) => t.id)).toEqual(['t-1']);
  });
});
