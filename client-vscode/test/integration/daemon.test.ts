/**
 * The REAL daemon over stdio, driven with vscode-jsonrpc — the same JSON-RPC library vscode-languageclient
 * uses — and the extension's own DockyardApi, OutputRouter and SessionPty on top of it.
 * Server: $DOCKYARD_SERVER, else <repo>/.venv/bin/dockyard. Needs Docker and the dockyard/testbox image;
 * it fails (never skips) without them.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { DockyardApi, jsonRpcTransport } from '../../src/api';
import { commandHandler } from '../../src/commands/index';
import { CMD } from '../../src/commands/ids';
import { NotificationBus } from '../../src/io/notifications';
import { OutputRouter } from '../../src/io/outputRouter';
import { SessionPty, SessionRouter } from '../../src/io/sessionTerminal';
import type { DockyardCapabilities, NotificationMap, NotificationName, Task } from '../../src/protocol';
import { dockyardCapabilities, M, N, NOTIFICATION_METHODS, PROTOCOL_VERSION, REQUEST_METHODS } from '../../src/protocol';
import { renderTaskStatus } from '../../src/views/statusDoc';
import { FakeChannel, harness } from '../helpers';

const SERVER = process.env.DOCKYARD_SERVER || resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'dockyard');
const IMAGE = 'dockyard/testbox:0.1.0';

interface Note {
  method: NotificationName;
  params: NotificationMap[NotificationName];
}

let workspace: string;
let daemon: ChildProcessWithoutNullStreams;
let connection: MessageConnection;
let caps: DockyardCapabilities;
let stderr = '';
const api = new DockyardApi();
const notes: Note[] = [];
const waiters = new Set<() => void>();
const sessions = new SessionRouter();
const bus = new NotificationBus(); // one handler per method in vscode-jsonrpc: fan out like the extension does
bus.on(N.sessionOutput, (p) => sessions.onOutput(p));
bus.on(N.sessionExited, (p) => sessions.onExited(p));
const created: string[] = [];

/** The params of the first notification `method` matching `match` (already received or still to come). */
function waitFor<K extends NotificationName>(method: K, match: (p: NotificationMap[K]) => boolean, timeoutMs = 30_000): Promise<NotificationMap[K]> {
  return new Promise((resolveWait, reject) => {
    const check = (): boolean => {
      const found = notes.find((n) => n.method === method && match(n.params as NotificationMap[K]));
      if (!found) return false;
      waiters.delete(check);
      clearTimeout(timer);
      resolveWait(found.params as NotificationMap[K]);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no ${method} notification matching in ${timeoutMs} ms; daemon stderr:\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    if (!check()) waiters.add(check);
  });
}

function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolveWait, reject) => {
    const poll = (): void => {
      if (condition()) resolveWait();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

beforeAll(async () => {
  if (!existsSync(SERVER)) {
    throw new Error(`daemon not found at ${SERVER}: run scripts/setup.sh (creates .venv) or set DOCKYARD_SERVER`);
  }
  workspace = mkdtempSync(join(tmpdir(), 'dockyard-vscode-e2e-'));
  daemon = spawn(SERVER, ['serve', '--stdio'], { cwd: workspace, env: process.env });
  daemon.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  connection = createMessageConnection(new StreamMessageReader(daemon.stdout), new StreamMessageWriter(daemon.stdin));
  for (const method of NOTIFICATION_METHODS) {
    connection.onNotification(method, (params: NotificationMap[typeof method]) => {
      notes.push({ method, params });
      bus.fire(method, params);
      for (const waiter of [...waiters]) waiter();
    });
  }
  connection.listen();
  const result = await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(workspace).href,
    capabilities: { window: { workDoneProgress: true } },
    initializationOptions: { client: 'vitest', settings: { serverPath: SERVER } },
  });
  const announced = dockyardCapabilities(result);
  if (!announced) throw new Error(`initialize result has no capabilities.experimental.dockyard: ${JSON.stringify(result)}`);
  caps = announced;
  await connection.sendNotification('initialized', {});
  api.connect(jsonRpcTransport(connection), caps);
}, 90_000);

afterAll(async () => {
  try {
    for (const id of created) {
      await api.request(M.removeTask, { taskId: id, force: true }).catch(() => undefined);
    }
    if (connection) {
      await Promise.race([connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 10_000))]).catch(() => undefined);
      await connection.sendNotification('exit').catch(() => undefined);
    }
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      const killer = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  } finally {
    connection?.dispose();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  }
}, 90_000);

describe('the real daemon over stdio (vscode-jsonrpc)', () => {
  let task: Task;

  it('initialize announces the protocol version and every method of the schema', () => {
    expect(caps.protocolVersion).toBe(PROTOCOL_VERSION);
    for (const method of REQUEST_METHODS) expect(caps.features).toContain(method);
  });

  it('commands for methods it lacks say so plainly, naming the method', async () => {
    const h = harness({ tasks: [], caps });
    await commandHandler(h.ctx, CMD.attachAgent)();
    expect(h.ui.infos).toHaveLength(1);
    expect(h.ui.infos[0]).toContain('`dockyard/attachAgent`');
    expect(h.ui.infos[0]).toContain(`version ${caps.serverVersion}`);
  });

  it('createTask runs a container and announces it (taskChanged, status)', async () => {
    task = await api.request(M.createTask, { title: 'vscode e2e', image: IMAGE });
    created.push(task.id);
    expect(task.state).toBe('running');
    expect(task.image).toBe(IMAGE);
    const changed = await waitFor(N.taskChanged, (p) => p.task.id === task.id && p.task.state === 'running');
    expect(changed.task.revision).toBeGreaterThanOrEqual(1);
    const status = await waitFor(N.status, (p) => (p.counts.running ?? 0) >= 1);
    expect(status.total).toBeGreaterThanOrEqual(1);
    const listed = await api.request(M.listTasks, {});
    expect(listed.tasks.map((t) => t.id)).toContain(task.id);
  }, 120_000);

  it('exec output streams as dockyard/output and lands in the task channel, exit by execId', async () => {
    const channels = new Map<string, FakeChannel>();
    const outputs = new OutputRouter(
      (name) => {
        const c = new FakeChannel(name);
        channels.set(name, c);
        return c;
      },
      () => task.title,
    );
    const execId = 'x-vscode-e2e-1';
    const route = bus.on(N.output, (p) => outputs.onOutput(p));
    const routeExit = bus.on(N.execExited, (p) => outputs.onExecExited(p));
    try {
      outputs.beginExec(task.id, execId, 'count');
      const result = await api.request(M.exec, {
        taskId: task.id,
        execId,
        command: 'for i in 1 2 3; do echo line-$i; sleep 0.2; done; echo oops >&2; exit 3',
      });
      expect(result).toMatchObject({ execId, exitCode: 3 });
      await waitFor(N.execExited, (p) => p.execId === execId);
      const mine = notes.filter((n) => n.method === N.output && (n.params as NotificationMap['dockyard/output']).execId === execId);
      const outs = mine.map((n) => n.params as NotificationMap['dockyard/output']);
      expect(outs.length).toBeGreaterThanOrEqual(3); // streamed in pieces, not one blob at the end
      expect(outs.every((o) => o.taskId === task.id)).toBe(true);
      expect(outs.map((o) => o.seq)).toEqual([...outs.map((o) => o.seq)].sort((a, b) => a - b));
      expect(outs.filter((o) => o.stream === 'stderr').map((o) => o.data).join('')).toBe('oops\n');
      const text = [...channels.values()][0].text;
      expect(text).toBe('$ count\nline-1\nline-2\nline-3\noops\n[exit code 3]\n');
    } finally {
      route.dispose();
      routeExit.dispose();
    }
  }, 60_000);

  it('a terminal bridged to a PTY session echoes input, resizes, and closes with the exit code', async () => {
    const written: string[] = [];
    const closed: (number | void)[] = [];
    const pty = new SessionPty(api, sessions, { taskId: task.id });
    pty.onDidWrite((d) => written.push(d));
    pty.onDidClose((c) => closed.push(c));
    await pty.open({ columns: 100, rows: 30 });
    expect(pty.id).toMatch(/^s-/);
    pty.handleInput('echo hi-$((40+2))\n');
    await until(() => written.join('').includes('hi-42'), 'hi-42 in the terminal');
    const raw = notes.filter((n) => n.method === N.sessionOutput).map((n) => n.params as NotificationMap['dockyard/sessionOutput']);
    expect(raw.filter((s) => s.sessionId === pty.id).map((s) => s.data).join('')).toContain('hi-42');
    pty.setDimensions({ columns: 101, rows: 31 });
    await new Promise((r) => setTimeout(r, 300));
    pty.handleInput('stty size\n');
    await until(() => written.join('').includes('31 101'), 'the new size inside the PTY');
    pty.handleInput('exit 7\n');
    const exited = await waitFor(N.sessionExited, (p) => p.sessionId === pty.id);
    expect(exited.exitCode).toBe(7);
    expect(closed).toEqual([7]);
  }, 60_000);

  it('closing the terminal ends its session (closeSession)', async () => {
    const pty = new SessionPty(api, sessions, { taskId: task.id });
    await pty.open({ columns: 80, rows: 24 });
    const id = pty.id;
    pty.close();
    await waitFor(N.sessionExited, (p) => p.sessionId === id);
  }, 60_000);

  it('getTask renders into the status document; logs come back as text', async () => {
    const status = await api.request(M.getTask, { taskId: task.id, include: ['stats', 'inspect', 'top', 'git'] });
    const md = renderTaskStatus(status, { checkpoints: { kind: 'unsupported' } }, new Date());
    expect(md).toContain(`\`${task.id}\` · **running**`);
    expect(md).toContain('| Read-only root fs | yes |');
    expect(md).toContain('| Capabilities dropped | ALL |');
    const logs = await api.request(M.logs, { taskId: task.id, tail: 10 });
    expect(typeof logs.text).toBe('string');
  }, 60_000);

  it('pause and resume arrive as taskChanged', async () => {
    await api.request(M.pauseTask, { taskId: task.id });
    await waitFor(N.taskChanged, (p) => p.task.id === task.id && p.task.state === 'paused');
    await waitFor(N.status, (p) => (p.counts.paused ?? 0) >= 1);
    await api.request(M.resumeTask, { taskId: task.id });
    await waitFor(N.taskChanged, (p) => p.task.id === task.id && p.task.state === 'running' && (p.task.revision ?? 0) > 2);
  }, 60_000);

  it('a policy refusal comes back as -32015 naming the field', async () => {
    await expect(api.request(M.createTask, { title: 'bad', image: IMAGE, options: { privileged: true } })).rejects.toMatchObject({
      code: -32015,
      data: { field: 'options.privileged' },
    });
  });

  it('removeTask force removes it; listTasks and status agree', async () => {
    await expect(api.request(M.removeTask, { taskId: task.id, force: true })).resolves.toEqual({ removed: true });
    await waitFor(N.taskChanged, (p) => p.task.id === task.id && p.task.state === 'removed');
    created.splice(created.indexOf(task.id), 1);
    const listed = await api.request(M.listTasks, {});
    expect(listed.tasks.map((t) => t.id)).not.toContain(task.id);
    await waitFor(N.status, (p) => p.total === 0);
  }, 60_000);
});
