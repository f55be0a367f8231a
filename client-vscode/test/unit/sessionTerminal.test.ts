import { describe, expect, it } from 'vitest';
import { DockyardApi } from '../../src/api';
import { SessionPty, SessionRouter } from '../../src/io/sessionTerminal';
import { M } from '../../src/protocol';
import { FakeTransport, TODAY } from '../helpers';

const session = (id: string) => ({ sessionId: id, taskId: 't-000001', command: ['/bin/sh'], cols: 80, rows: 24, state: 'open' as const });

function setup(transport = new FakeTransport()) {
  const api = new DockyardApi();
  api.connect(transport, TODAY);
  const router = new SessionRouter();
  const written: string[] = [];
  const closed: (number | void)[] = [];
  const errors: unknown[] = [];
  const pty = new SessionPty(api, router, { taskId: 't-000001' }, (e) => errors.push(e));
  pty.onDidWrite((d) => written.push(d));
  pty.onDidClose((c) => closed.push(c));
  return { api, router, pty, written, closed, errors, transport };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('terminal ⇄ PTY session', () => {
  it('open → openSession with the terminal size; output written; exit closes with the code', async () => {
    const s = setup(new FakeTransport().on(M.openSession, () => session('s-1')));
    await s.pty.open({ columns: 120, rows: 40 });
    expect(s.transport.sent[0]).toEqual({ method: M.openSession, params: { taskId: 't-000001', command: null, cols: 120, rows: 40 } });
    s.router.onOutput({ sessionId: 's-1', data: '$ ', seq: 1 });
    s.router.onOutput({ sessionId: 's-other', data: 'not mine', seq: 1 });
    s.router.onExited({ sessionId: 's-1', exitCode: 3 });
    expect(s.written).toEqual(['$ ']);
    expect(s.closed).toEqual([3]);
  });

  it('output that arrives before the openSession reply is held and then written', async () => {
    const transport = new FakeTransport();
    const s = setup(transport);
    transport.on(M.openSession, () => {
      s.router.onOutput({ sessionId: 's-2', data: 'banner\r\n', seq: 1 });
      return session('s-2');
    });
    await s.pty.open(undefined);
    s.router.onOutput({ sessionId: 's-2', data: '$ ', seq: 2 });
    expect(s.written).toEqual(['banner\r\n', '$ ']);
  });

  it('keystrokes are sent one request at a time, in order; typed-ahead keys are batched', async () => {
    const transport = new FakeTransport().on(M.openSession, () => session('s-3'));
    let release: () => void = () => undefined;
    let inFlight = 0;
    let maxInFlight = 0;
    transport.on(M.sessionInput, async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => (release = r));
      inFlight -= 1;
      return session('s-3');
    });
    const s = setup(transport);
    s.pty.handleInput('e'); // typed before the session exists: queued
    const opened = s.pty.open({ columns: 80, rows: 24 });
    await tick(); // openSession answered, 'e' in flight
    s.pty.handleInput('c');
    s.pty.handleInput('h');
    s.pty.handleInput('o\r');
    release();
    await tick(); // 'e' answered; the three keys typed meanwhile go out together
    release();
    await opened;
    const inputs = transport.sent.filter((x) => x.method === M.sessionInput).map((x) => (x.params as { data: string }).data);
    expect(inputs.join('')).toBe('echo\r');
    expect(inputs).toEqual(['e', 'cho\r']);
    expect(maxInFlight).toBe(1);
  });

  it('setDimensions → resizeSession; closing the terminal → closeSession', async () => {
    const transport = new FakeTransport()
      .on(M.openSession, () => session('s-4'))
      .on(M.resizeSession, () => session('s-4'))
      .on(M.closeSession, () => ({ ...session('s-4'), state: 'exited' }));
    const s = setup(transport);
    await s.pty.open({ columns: 80, rows: 24 });
    s.pty.setDimensions({ columns: 100, rows: 30 });
    s.pty.close();
    await tick();
    expect(transport.sent.slice(1)).toEqual([
      { method: M.resizeSession, params: { sessionId: 's-4', cols: 100, rows: 30 } },
      { method: M.closeSession, params: { sessionId: 's-4' } },
    ]);
    s.router.onOutput({ sessionId: 's-4', data: 'late', seq: 9 });
    expect(s.written).toEqual([]);
  });

  it('bridges an existing session (interactive agent) without opening a new one', async () => {
    const transport = new FakeTransport().on(M.resizeSession, () => session('s-agent'));
    const api = new DockyardApi();
    api.connect(transport, TODAY);
    const router = new SessionRouter();
    router.onOutput({ sessionId: 's-agent', data: 'agent ready', seq: 1 });
    const pty = new SessionPty(api, router, { taskId: 't-000001', sessionId: 's-agent' });
    const written: string[] = [];
    pty.onDidWrite((d) => written.push(d));
    await pty.open({ columns: 90, rows: 20 });
    expect(transport.methods()).toEqual([M.resizeSession]);
    expect(written).toEqual(['agent ready']);
  });

  it('a failed open shows the daemon error in the terminal and closes on the next key', async () => {
    const transport = new FakeTransport().on(M.openSession, () => {
      throw { code: -32011, message: "cannot open a session in task 't-000001': it is paused" };
    });
    const s = setup(transport);
    await s.pty.open({ columns: 80, rows: 24 });
    expect(s.written.join('')).toContain('it is paused');
    expect(s.errors).toHaveLength(1);
    expect(s.closed).toEqual([]);
    s.pty.handleInput('x');
    expect(s.closed).toEqual([1]);
    expect(transport.methods()).toEqual([M.openSession]);
  });
});
