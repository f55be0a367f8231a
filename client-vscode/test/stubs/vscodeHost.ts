/**
 * A fake VS Code host for loading the BUILT extension (dist/extension.js) outside the editor: what the
 * extension and vscode-languageclient use is implemented (commands, configuration, output channels, status
 * bar, tree views, terminals, content providers, messages); everything else is an inert auto-mock, so
 * vscode-languageclient can register its features. Messages and prompts are answered from scripted queues.
 */
import Module from 'node:module';
import { pathToFileURL } from 'node:url';

type Fn = (...args: unknown[]) => unknown;
type Listener = (e: unknown) => unknown;

const disposable = (): { dispose(): void } => ({ dispose: () => undefined });

/** A function-and-object that absorbs any use: calls, `new`, `extends`, property access. */
function inert(name: string): Fn {
  const target = function () {} as unknown as Fn;
  return new Proxy(target, {
    get: (_t, prop) => {
      if (prop === 'then') return undefined; // not a promise
      if (prop === 'dispose') return () => undefined;
      if (prop === Symbol.toPrimitive) return () => `[inert ${name}]`;
      if (prop === 'prototype') return {};
      return inert(`${name}.${String(prop)}`);
    },
    apply: () => inert(`${name}()`),
    construct: () => inert(`new ${name}`) as object,
  });
}

function withFallback<T extends object>(name: string, real: T): T {
  return new Proxy(real, {
    get: (t, prop) => (prop in t ? (t as Record<string | symbol, unknown>)[prop] : prop === 'then' ? undefined : inert(`${name}.${String(prop)}`)),
  });
}

export class EventEmitter<T> {
  private listeners = new Set<Listener>();
  event = (listener: Listener): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Disposable {
  constructor(private readonly fn: () => unknown) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class Uri {
  constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
    readonly authority = '',
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(/:$/, ''), decodeURIComponent(url.pathname));
  }
  static from(parts: { scheme: string; path?: string; query?: string }): Uri {
    return new Uri(parts.scheme, parts.path ?? '', parts.query ?? '');
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: { path?: string }): Uri {
    return new Uri(this.scheme, change.path ?? this.path);
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).href : `${this.scheme}:${this.path}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path };
  }
}

export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {}
}

export class FakeChannel {
  lines = '';
  constructor(readonly name: string) {}
  append(v: string): void {
    this.lines += v;
  }
  appendLine(v: string): void {
    this.lines += `${v}\n`;
  }
  replace(v: string): void {
    this.lines = v;
  }
  clear(): void {
    this.lines = '';
  }
  show(): void {}
  hide(): void {}
  dispose(): void {}
}

export interface FakePty {
  onDidWrite: (l: (d: string) => void) => unknown;
  onDidClose?: (l: (c: number | void) => void) => unknown;
  open(dims?: { columns: number; rows: number }): void;
  handleInput?(data: string): void;
  setDimensions?(dims: { columns: number; rows: number }): void;
  close(): void;
}

export interface TreeProvider {
  getChildren(node?: unknown): unknown[] | Promise<unknown[]>;
  getTreeItem(node: unknown): { label?: unknown; description?: unknown; contextValue?: string };
}

interface ContentProvider {
  provideTextDocumentContent(uri: Uri): Promise<string> | string;
}

export function createHost(settings: Record<string, unknown>, folder: string) {
  const commands = new Map<string, Fn>();
  const channels = new Map<string, FakeChannel>();
  const trees = new Map<string, TreeProvider>();
  const providers = new Map<string, ContentProvider>();
  const terminals: { name: string; pty: FakePty }[] = [];
  const documents: { uri: Uri; text: string }[] = [];
  const messages: { kind: string; text: string }[] = [];
  const answers: unknown[] = []; // for input boxes, quick picks and modal warnings, in order
  const statusItems: { text: string; tooltip?: unknown; command?: unknown }[] = [];

  const answer = (): unknown => answers.shift();
  const message = (kind: string) => async (text: string) => {
    messages.push({ kind, text });
    return undefined;
  };
  const event = () => (_l: Listener) => disposable();

  const window = withFallback('window', {
    createOutputChannel: (name: string) => {
      const c = new FakeChannel(name);
      channels.set(name, c);
      return c;
    },
    createStatusBarItem: () => {
      const item = { text: '', tooltip: undefined as unknown, command: undefined as unknown, show() {}, hide() {}, dispose() {} };
      statusItems.push(item);
      return item;
    },
    createTreeView: (id: string, options: { treeDataProvider: TreeProvider }) => {
      trees.set(id, options.treeDataProvider);
      return withFallback('treeView', { dispose() {} });
    },
    createTerminal: (options: { name: string; pty: FakePty }) => {
      terminals.push(options);
      return { show() {}, dispose() {} };
    },
    showInformationMessage: message('info'),
    showErrorMessage: message('error'),
    showWarningMessage: async (text: string) => {
      messages.push({ kind: 'warning', text });
      return answer();
    },
    showInputBox: async () => answer(),
    showQuickPick: async (items: { label: string }[]) => {
      const wanted = answer();
      return items.find((i) => typeof wanted === 'string' && i.label.includes(wanted));
    },
    withProgress: async (_o: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) =>
      task({ report() {} }, new CancellationTokenSource().token),
    showTextDocument: async () => ({}),
    onDidChangeActiveTextEditor: event(),
    activeTextEditor: undefined,
    visibleTextEditors: [],
    tabGroups: withFallback('tabGroups', { all: [], onDidChangeTabs: event(), onDidChangeTabGroups: event() }),
  });

  const workspace = withFallback('workspace', {
    workspaceFolders: [{ uri: Uri.file(folder), name: 'ws', index: 0 }],
    textDocuments: [],
    getConfiguration: (section?: string) => ({
      get: (key: string, fallback?: unknown) => settings[section ? `${section}.${key}` : key] ?? fallback,
      has: () => false,
      inspect: () => undefined,
      update: async () => undefined,
    }),
    getWorkspaceFolder: () => undefined,
    registerTextDocumentContentProvider: (scheme: string, provider: ContentProvider) => {
      providers.set(scheme, provider);
      return disposable();
    },
    openTextDocument: async (uri: Uri) => {
      const provider = providers.get(uri.scheme);
      const text = provider ? await provider.provideTextDocumentContent(uri) : '';
      const doc = { uri, text, getText: () => text };
      documents.push(doc);
      return doc;
    },
    onDidChangeConfiguration: event(),
    onDidOpenTextDocument: event(),
    onDidCloseTextDocument: event(),
    onDidChangeTextDocument: event(),
    onDidSaveTextDocument: event(),
    onWillSaveTextDocument: event(),
    onDidChangeWorkspaceFolders: event(),
    onDidCreateFiles: event(),
    onDidRenameFiles: event(),
    onDidDeleteFiles: event(),
    onWillCreateFiles: event(),
    onWillRenameFiles: event(),
    onWillDeleteFiles: event(),
    createFileSystemWatcher: () => withFallback('watcher', { onDidCreate: event(), onDidChange: event(), onDidDelete: event(), dispose() {} }),
  });

  const vscode = withFallback('vscode', {
    version: '1.82.0',
    env: withFallback('env', { appName: 'Fake Code', language: 'en', machineId: 'test', sessionId: 'test', uriScheme: 'vscode' }),
    window,
    workspace,
    commands: withFallback('commands', {
      registerCommand: (id: string, fn: Fn) => {
        if (commands.has(id)) throw new Error(`command '${id}' already exists`);
        commands.set(id, fn);
        return { dispose: () => void commands.delete(id) };
      },
      executeCommand: async (id: string, ...args: unknown[]) => commands.get(id)?.(...args),
      getCommands: async () => [...commands.keys()],
    }),
    languages: withFallback('languages', { match: () => 0, createDiagnosticCollection: () => inert('diagnostics') }),
    Uri,
    EventEmitter,
    Disposable,
    CancellationTokenSource,
    CancellationError: class CancellationError extends Error {},
    ThemeIcon: class ThemeIcon {
      constructor(
        readonly id: string,
        readonly color?: unknown,
      ) {}
    },
    ThemeColor: class ThemeColor {
      constructor(readonly id: string) {}
    },
    MarkdownString: class MarkdownString {
      constructor(readonly value = '') {}
    },
    TreeItem: class TreeItem {
      constructor(
        readonly label: string,
        readonly collapsibleState = 0,
      ) {}
    },
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  });

  return { vscode, commands, channels, trees, terminals, documents, messages, answers, statusItems, providers };
}

/** `require(bundle)` with `require('vscode')` answered by `vscode` until `restore()` (bundled modules may
 *  require it lazily). */
export function loadWithVscode<T>(bundle: string, vscode: unknown): { module: T; restore(): void } {
  const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = mod._load;
  mod._load = (request, parent, isMain) => (request === 'vscode' ? vscode : original(request, parent, isMain));
  return { module: Module.createRequire(__filename)(bundle) as T, restore: () => void (mod._load = original) };
}
