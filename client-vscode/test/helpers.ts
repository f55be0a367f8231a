/** Fakes for unit tests: a scripted Ui, a recording Transport, tasks, a command context. */
import type { CancellationTokenLike, Transport } from '../src/api';
import { DockyardApi } from '../src/api';
import type { CommandContext, TerminalOptions } from '../src/commands/context';
import { Emitter } from '../src/events';
import type { OutputChannelLike } from '../src/io/outputRouter';
import { OutputRouter } from '../src/io/outputRouter';
import type { DockyardCapabilities, Task } from '../src/protocol';
import { REQUEST_METHODS } from '../src/protocol';
import { TaskStore } from '../src/state/taskStore';
import type { InputOptions, PickItem, PickOptions, Ui } from '../src/ui';

/** What the daemon announces today: exactly the methods in the schema. */
export const TODAY: DockyardCapabilities = { protocolVersion: '1.0', serverVersion: '0.1.0', features: [...REQUEST_METHODS] };

export function task(over: Partial<Task> & { id: string }): Task {
  return {
    title: `task ${over.id}`,
    state: 'running',
    image: 'dockyard/testbox:0.1.0',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    revision: 1,
    resources: { memoryMb: 2048, cpus: 1, pids: 512 },
    network: 'none',
    ...over,
  };
}

/** An answer for the next prompt: a label substring / index to pick, the text to type, undefined to cancel. */
export type Answer = string | number | undefined | string[];

export class FakeUi implements Ui {
  readonly prompts: { kind: string; text: string; items?: string[] }[] = [];
  readonly infos: string[] = [];
  readonly errors: string[] = [];
  readonly progressTitles: string[] = [];
  /** Answers for info/error message buttons, in order (default: dismissed). */
  readonly buttons: (string | undefined)[] = [];

  constructor(private readonly answers: Answer[] = []) {}

  answer(...more: Answer[]): this {
    this.answers.push(...more);
    return this;
  }

  async pick<T extends PickItem>(items: readonly T[], options: PickOptions): Promise<T | undefined> {
    this.prompts.push({ kind: 'pick', text: options.placeHolder, items: items.map((i) => i.label) });
    const a = this.next();
    if (a === undefined) return undefined;
    if (typeof a === 'number') return items[a];
    const wanted = Array.isArray(a) ? a[0] : a;
    const found = items.find((i) => i.label.includes(wanted) || (i.description ?? '').includes(wanted));
    if (!found) throw new Error(`no item matching ${wanted} in ${items.map((i) => i.label).join(', ')}`);
    return found;
  }

  async pickMany<T extends PickItem>(items: readonly T[], options: PickOptions): Promise<T[] | undefined> {
    this.prompts.push({ kind: 'pickMany', text: options.placeHolder, items: items.map((i) => i.label) });
    const a = this.next();
    if (a === undefined) return undefined;
    const wanted = Array.isArray(a) ? a : [String(a)];
    return items.filter((i) => wanted.some((w) => i.label.includes(w)));
  }

  async input(options: InputOptions): Promise<string | undefined> {
    this.prompts.push({ kind: 'input', text: options.prompt });
    const a = this.next();
    if (a === undefined) return undefined;
    const value = String(a);
    const problem = options.validateInput?.(value);
    if (problem) throw new Error(`input "${value}" rejected: ${problem}`);
    return value;
  }

  async info(message: string): Promise<string | undefined> {
    this.infos.push(message);
    return this.buttons.shift();
  }

  async error(message: string): Promise<string | undefined> {
    this.errors.push(message);
    return this.buttons.shift();
  }

  async confirm(message: string): Promise<string | undefined> {
    this.prompts.push({ kind: 'confirm', text: message });
    const a = this.next();
    return a === undefined ? undefined : String(a);
  }

  async withProgress<T>(title: string, _cancellable: boolean, work: (token: CancellationTokenLike) => Promise<T>): Promise<T> {
    this.progressTitles.push(title);
    return work({ isCancellationRequested: false, onCancellationRequested: new Emitter<unknown>().event });
  }

  private next(): Answer {
    if (this.answers.length === 0) throw new Error('the command asked for more input than the test scripted');
    return this.answers.shift();
  }
}

type Handler = (params: unknown) => unknown;

export class FakeTransport implements Transport {
  readonly sent: { method: string; params: unknown }[] = [];
  private handlers = new Map<string, Handler>();

  on(method: string, handler: Handler): this {
    this.handlers.set(method, handler);
    return this;
  }

  async sendRequest(method: string, params: unknown): Promise<unknown> {
    this.sent.push({ method, params });
    const handler = this.handlers.get(method);
    if (!handler) throw { code: -32601, message: `Method Not Found: ${method}` };
    return handler(params);
  }

  methods(): string[] {
    return this.sent.map((s) => s.method);
  }
}

export class FakeChannel implements OutputChannelLike {
  text = '';
  shown = 0;
  constructor(readonly name: string) {}
  append(value: string): void {
    this.text += value;
  }
  appendLine(value: string): void {
    this.text += `${value}\n`;
  }
  show(): void {
    this.shown += 1;
  }
  dispose(): void {}
}

export interface Harness {
  ctx: CommandContext;
  ui: FakeUi;
  transport: FakeTransport;
  api: DockyardApi;
  store: TaskStore;
  channels: Map<string, FakeChannel>;
  executed: { command: string; args: unknown[] }[];
  terminals: { task: Task; options?: TerminalOptions }[];
  docs: string[];
}

export function harness(options: { tasks?: Task[]; caps?: DockyardCapabilities; answers?: Answer[]; connected?: boolean } = {}): Harness {
  const ui = new FakeUi(options.answers ?? []);
  const transport = new FakeTransport();
  const api = new DockyardApi();
  if (options.connected !== false) api.connect(transport, options.caps ?? TODAY);
  const store = new TaskStore();
  store.reset(options.tasks ?? []);
  const channels = new Map<string, FakeChannel>();
  const outputs = new OutputRouter(
    (name) => {
      const channel = new FakeChannel(name);
      channels.set(name, channel);
      return channel;
    },
    (id) => store.get(id)?.title,
  );
  const executed: Harness['executed'] = [];
  const terminals: Harness['terminals'] = [];
  const docs: string[] = [];
  let ids = 0;
  const ctx: CommandContext = {
    api,
    ui,
    store,
    outputs,
    terminals: { open: (t, o) => void terminals.push({ task: t, options: o }) },
    statusDocs: { show: async (id) => void docs.push(id) },
    settings: () => ({ defaultImage: '' }),
    execute: async (command, ...args) => void executed.push({ command, args }),
    newId: () => `id${++ids}`,
  };
  return { ctx, ui, transport, api, store, channels, executed, terminals, docs };
}
