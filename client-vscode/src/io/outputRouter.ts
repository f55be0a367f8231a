/** Routes `dockyard/output` and `dockyard/execExited` into one output channel per task. */
import type { Disposable } from '../events';
import type { ExecExited, Output } from '../protocol';

export interface OutputChannelLike {
  append(value: string): void;
  appendLine(value: string): void;
  show(preserveFocus?: boolean): void;
  dispose(): void;
}

interface Channel {
  out: OutputChannelLike;
  atLineStart: boolean;
}

export class OutputRouter implements Disposable {
  private channels = new Map<string, Channel>();
  private execTask = new Map<string, string>();

  constructor(
    private readonly create: (name: string) => OutputChannelLike,
    private readonly titleOf: (taskId: string) => string | undefined,
  ) {}

  channelName(taskId: string): string {
    const title = this.titleOf(taskId);
    return title ? `Dockyard: ${title} (${taskId})` : `Dockyard: ${taskId}`;
  }

  channel(taskId: string): OutputChannelLike {
    return this.entry(taskId).out;
  }

  /** Announce an exec we are about to start, so its output and exit land in the task's channel. */
  beginExec(taskId: string, execId: string, command: string): OutputChannelLike {
    this.execTask.set(execId, taskId);
    this.line(taskId, `$ ${command}`);
    return this.channel(taskId);
  }

  onOutput(output: Output): void {
    this.execTask.set(output.execId, output.taskId);
    const entry = this.entry(output.taskId);
    if (output.data.length === 0) return;
    entry.out.append(output.data);
    entry.atLineStart = output.data.endsWith('\n');
  }

  onExecExited(exited: ExecExited): void {
    const taskId = this.execTask.get(exited.execId);
    if (taskId === undefined) return;
    this.execTask.delete(exited.execId);
    this.line(taskId, `[exit code ${exited.exitCode}]`);
  }

  /** A line of our own (notes, logs headers), always starting on a fresh line. */
  line(taskId: string, text: string): void {
    const entry = this.entry(taskId);
    if (!entry.atLineStart) entry.out.append('\n');
    entry.out.appendLine(text);
    entry.atLineStart = true;
  }

  showLogs(taskId: string, text: string, tail: number): void {
    this.line(taskId, `── container logs (last ${tail} lines) ──`);
    const entry = this.entry(taskId);
    if (text.length > 0) {
      entry.out.append(text);
      entry.atLineStart = text.endsWith('\n');
    } else {
      this.line(taskId, '(no output)');
    }
    this.line(taskId, '── end of logs ──');
    entry.out.show(true);
  }

  taskOfExec(execId: string): string | undefined {
    return this.execTask.get(execId);
  }

  dispose(): void {
    for (const entry of this.channels.values()) entry.out.dispose();
    this.channels.clear();
    this.execTask.clear();
  }

  private entry(taskId: string): Channel {
    let entry = this.channels.get(taskId);
    if (!entry) {
      entry = { out: this.create(this.channelName(taskId)), atLineStart: true };
      this.channels.set(taskId, entry);
    }
    return entry;
  }
}
