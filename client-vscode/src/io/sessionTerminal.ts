/**
 * Bridges a daemon PTY session to a VS Code terminal. `SessionPty` has the shape of `vscode.Pseudoterminal`:
 * open → openSession, input → sessionInput (strictly in order), setDimensions → resizeSession,
 * close → closeSession; dockyard/sessionOutput is written to the terminal, dockyard/sessionExited closes it.
 */
import type { DockyardApi } from '../api';
import { describeError } from '../errors';
import type { Disposable } from '../events';
import { Emitter } from '../events';
import type { SessionExited, SessionOutput } from '../protocol';
import { M } from '../protocol';

export interface SessionSink {
  output(data: string): void;
  exited(exitCode: number | null): void;
}

const PENDING_LIMIT = 256 * 1024;

/** Delivers session notifications to the terminal that owns the session. Output can arrive before the
 *  openSession reply tells us the session id, so notifications for unknown sessions are held (bounded). */
export class SessionRouter {
  private sinks = new Map<string, SessionSink>();
  private pending = new Map<string, { chunks: string[]; size: number; exitCode?: number | null }>();

  register(sessionId: string, sink: SessionSink): Disposable {
    this.sinks.set(sessionId, sink);
    const held = this.pending.get(sessionId);
    this.pending.delete(sessionId);
    if (held) {
      for (const chunk of held.chunks) sink.output(chunk);
      if (held.exitCode !== undefined) sink.exited(held.exitCode);
    }
    return { dispose: () => void (this.sinks.get(sessionId) === sink && this.sinks.delete(sessionId)) };
  }

  onOutput(note: SessionOutput): void {
    const sink = this.sinks.get(note.sessionId);
    if (sink) {
      sink.output(note.data);
      return;
    }
    const held = this.held(note.sessionId);
    if (held.size + note.data.length <= PENDING_LIMIT) {
      held.chunks.push(note.data);
      held.size += note.data.length;
    }
  }

  onExited(note: SessionExited): void {
    const sink = this.sinks.get(note.sessionId);
    if (sink) {
      this.sinks.delete(note.sessionId);
      sink.exited(note.exitCode);
      return;
    }
    this.held(note.sessionId).exitCode = note.exitCode;
  }

  private held(sessionId: string): { chunks: string[]; size: number; exitCode?: number | null } {
    let held = this.pending.get(sessionId);
    if (!held) {
      if (this.pending.size >= 32) this.pending.delete(this.pending.keys().next().value as string);
      held = { chunks: [], size: 0 };
      this.pending.set(sessionId, held);
    }
    return held;
  }
}

export interface Dimensions {
  columns: number;
  rows: number;
}

export interface SessionTarget {
  taskId: string;
  /** Command to run; default: the daemon's login shell. */
  command?: string | string[];
  /** Bridge an already open session (e.g. an interactive agent) instead of opening one. */
  sessionId?: string;
}

export class SessionPty implements SessionSink {
  private readonly writeEmitter = new Emitter<string>();
  private readonly closeEmitter = new Emitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;

  private sessionId: string | undefined;
  private registration: Disposable | undefined;
  private inbox = '';
  private sending = false;
  private dims: Dimensions | undefined;
  private done = false;
  private failed = false;

  constructor(
    private readonly api: DockyardApi,
    private readonly router: SessionRouter,
    private readonly target: SessionTarget,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  get id(): string | undefined {
    return this.sessionId;
  }

  async open(initial: Dimensions | undefined): Promise<void> {
    this.dims = initial ?? this.dims;
    try {
      if (this.target.sessionId !== undefined) {
        this.attach(this.target.sessionId);
        if (this.dims) await this.resize(this.dims);
      } else {
        const session = await this.api.request(M.openSession, {
          taskId: this.target.taskId,
          command: this.target.command ?? null,
          cols: this.dims?.columns ?? 80,
          rows: this.dims?.rows ?? 24,
        });
        this.attach(session.sessionId);
      }
      await this.flush();
    } catch (error) {
      this.fail(error);
    }
  }

  handleInput(data: string): void {
    if (this.failed) {
      this.failed = false;
      this.closeEmitter.fire(1); // the error stayed on screen until this key
      return;
    }
    if (this.done) return;
    this.inbox += data;
    void this.flush();
  }

  setDimensions(dims: Dimensions): void {
    this.dims = dims;
    if (this.sessionId !== undefined && !this.done) {
      this.resize(dims).catch((error: unknown) => this.writeLine(`[resize failed: ${describeError(error)}]`));
    }
  }

  /** The user closed the terminal: end the session in the task. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.registration?.dispose();
    if (this.sessionId !== undefined) {
      this.api.request(M.closeSession, { sessionId: this.sessionId }).catch(() => undefined);
    }
  }

  output(data: string): void {
    this.writeEmitter.fire(data);
  }

  exited(exitCode: number | null): void {
    if (this.done) return;
    this.done = true;
    this.registration?.dispose();
    this.closeEmitter.fire(exitCode ?? undefined);
  }

  private attach(sessionId: string): void {
    this.sessionId = sessionId;
    this.registration = this.router.register(sessionId, this);
  }

  private resize(dims: Dimensions): Promise<unknown> {
    return this.api.request(M.resizeSession, { sessionId: this.sessionId ?? '', cols: dims.columns, rows: dims.rows });
  }

  /** Sends queued keystrokes one request at a time: the daemon handles requests in parallel threads, so
   *  two in flight could reach the PTY out of order. Keys typed meanwhile are sent together next. */
  private async flush(): Promise<void> {
    if (this.sending || this.sessionId === undefined) return;
    this.sending = true;
    try {
      while (this.inbox.length > 0 && !this.done) {
        const data = this.inbox;
        this.inbox = '';
        await this.api.request(M.sessionInput, { sessionId: this.sessionId, data });
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.sending = false;
    }
  }

  /** Leaves the error on screen (closing now would hide it) and closes on the next key. */
  private fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failed = true;
    this.registration?.dispose();
    this.writeLine(`[Dockyard: ${describeError(error)}] — press any key to close`);
    this.onError(error);
  }

  private writeLine(text: string): void {
    this.writeEmitter.fire(`\r\n${text}\r\n`);
  }
}
