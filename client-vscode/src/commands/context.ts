/** Everything a command needs, as interfaces: the extension passes the real things, tests pass fakes. */
import type { DockyardApi } from '../api';
import type { OutputRouter } from '../io/outputRouter';
import type { Task } from '../protocol';
import type { TaskStore } from '../state/taskStore';
import type { Ui } from '../ui';

export interface TerminalOptions {
  /** Bridge this already open session instead of opening a shell. */
  sessionId?: string;
  name?: string;
}

export interface CommandContext {
  api: DockyardApi;
  ui: Ui;
  store: TaskStore;
  outputs: OutputRouter;
  terminals: { open(task: Task, options?: TerminalOptions): void };
  statusDocs: { show(taskId: string): Promise<void> };
  settings(): { defaultImage: string };
  execute(command: string, ...args: unknown[]): Promise<unknown>;
  /** A fresh id for client-chosen exec ids. */
  newId(): string;
}

export type Command = (ctx: CommandContext, arg?: unknown) => Promise<void>;
