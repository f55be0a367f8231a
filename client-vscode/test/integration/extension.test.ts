/**
 * The BUILT extension (dist/extension.js, as packaged) activated in a fake VS Code host: the real
 * vscode-languageclient launches the REAL daemon (dockyard.serverPath), and the registered commands are
 * driven as a user would (prompts answered from a queue). Needs `npm run build` (or package) first.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_COMMANDS } from '../../src/commands/ids';
import type { FakePty } from '../stubs/vscodeHost';
import { createHost, loadWithVscode } from '../stubs/vscodeHost';

const SERVER = process.env.DOCKYARD_SERVER || resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'dockyard');
const BUNDLE = resolve(__dirname, '..', '..', 'dist', 'extension.js');

interface Extension {
  activate(context: { subscriptions: { dispose(): unknown }[] }): Promise<void>;
  deactivate(): Promise<void>;
}
interface Node {
  task: { id: string; title: string; state: string };
}

const workspace = mkdtempSync(join(tmpdir(), 'dockyard-vscode-ext-'));
const host = createHost({ 'dockyard.serverPath': SERVER, 'dockyard.trace.server': 'off' }, workspace);
const context = { subscriptions: [] as { dispose(): unknown }[] };
let ext: Extension;
let restore = (): void => undefined;
let taskId = '';

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; messages: ${JSON.stringify(host.messages)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const run = (id: string, ...args: unknown[]) => host.commands.get(id)!(...args) as Promise<void>;
const statusText = () => host.statusItems[0]?.text ?? '';
const tasks = async (): Promise<Node[]> => (await host.trees.get('dockyard.tasks')!.getChildren()) as Node[];

beforeAll(async () => {
  expect(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\` first`).toBe(true);
  expect(existsSync(SERVER), `daemon not found at ${SERVER}: run scripts/setup.sh or set DOCKYARD_SERVER`).toBe(true);
  const loaded = loadWithVscode<Extension>(BUNDLE, host.vscode);
  ext = loaded.module;
  restore = loaded.restore;
  await ext.activate(context);
  await until(() => statusText().includes('0 running'), 'the status bar to show the connected daemon');
}, 90_000);

afterAll(async () => {
  try {
    if (taskId) await run('dockyard.task.remove', taskId).catch(() => undefined);
    await ext?.deactivate();
    for (const d of context.subscriptions) d.dispose();
  } finally {
    restore();
    rmSync(workspace, { recursive: true, force: true });
  }
}, 60_000);

describe('the built extension in a fake VS Code host, against the real daemon', () => {
  it('registers all 15 commands next to the daemon executeCommand ones, without a clash', () => {
    for (const { id } of USER_COMMANDS) expect(host.commands.has(id)).toBe(true);
    expect(host.commands.has('dockyard.createTask')).toBe(true); // vscode-languageclient's ExecuteCommandFeature
    expect(host.channels.get('Dockyard')?.lines).toContain('connected: daemon');
    expect(host.messages.filter((m) => m.kind === 'error')).toEqual([]);
  });

  it('New Task creates a task; the tree and the status bar follow the notifications', async () => {
    host.answers.push('ext smoke', 'dockyard/testbox:0.1.0');
    await run('dockyard.task.new');
    const [node] = await until(async () => {
      const nodes = await tasks();
      return nodes.length === 1 && nodes[0].task.state === 'running' && nodes;
    }, 'the task in the tree');
    taskId = node.task.id;
    expect(host.trees.get('dockyard.tasks')!.getTreeItem(node).contextValue).toBe('dockyardTask.running');
    await until(() => statusText() === '$(package) 1 running · 0 paused · 0 failed', 'the status bar count');
    expect(host.messages.some((m) => m.kind === 'info' && m.text.includes(taskId))).toBe(true);
  }, 60_000);

  it('a command whose method the daemon lacks names it in an information message', async () => {
    await run('dockyard.task.attachAgent', taskId);
    const info = host.messages.filter((m) => m.kind === 'info').pop();
    expect(info?.text).toContain('`dockyard/attachAgent`');
    expect(info?.text).toContain('does not support');
  });

  it('Run Command streams into the task output channel', async () => {
    host.answers.push('echo smoke-$((6*7))');
    await run('dockyard.task.runCommand', taskId);
    const channel = await until(() => host.channels.get(`Dockyard: ext smoke (${taskId})`), 'the task channel');
    await until(() => channel.lines.includes('[exit code 0]'), 'the exit line');
    expect(channel.lines).toBe('$ echo smoke-$((6*7))\nsmoke-42\n[exit code 0]\n');
  }, 30_000);

  it('Open Terminal bridges a PTY: echo, then exit closes it with the code', async () => {
    await run('dockyard.task.openTerminal', taskId);
    const pty: FakePty = host.terminals[0].pty;
    let written = '';
    const closed: (number | void)[] = [];
    pty.onDidWrite((d) => (written += d));
    pty.onDidClose?.((c) => closed.push(c));
    pty.open({ columns: 90, rows: 25 });
    await until(() => written.length > 0, 'a prompt');
    pty.handleInput?.('echo hi-$((40+2))\n');
    await until(() => written.includes('hi-42'), 'hi-42');
    pty.handleInput?.('exit 5\n');
    await until(() => closed.length > 0, 'the terminal to close');
    expect(closed).toEqual([5]);
  }, 30_000);

  it('Show Task Status renders the markdown document from getTask', async () => {
    await run('dockyard.task.showStatus', taskId);
    const doc = await until(() => host.documents.find((d) => d.uri.scheme === 'dockyard-task'), 'the status document');
    expect(doc.text).toContain(`\`${taskId}\` · **running**`);
    expect(doc.text).toContain('| Capabilities dropped | ALL |');
  }, 30_000);

  it('Remove Task asks, removes, and the tree empties', async () => {
    host.answers.push('Remove');
    await run('dockyard.task.remove', taskId);
    await until(async () => (await tasks()).length === 0, 'the empty tree');
    expect(host.messages.some((m) => m.kind === 'warning' && m.text.includes(taskId))).toBe(true);
    taskId = '';
    expect(host.messages.filter((m) => m.kind === 'error')).toEqual([]);
  }, 30_000);
});
