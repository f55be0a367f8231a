/**
 * DockyardApi: the one place requests go through. It knows which methods the connected daemon implements
 * (from `capabilities.experimental.dockyard.features`) and refuses the others before anything is sent.
 */
import type { Event } from './events';
import { Emitter } from './events';
import type { DockyardCapabilities, Method, ParamsOf, ResultOf } from './protocol';

export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  readonly onCancellationRequested: Event<unknown>;
}

/** What a request needs from a connection: vscode-languageclient's `LanguageClient` and vscode-jsonrpc's
 *  `MessageConnection` both fit. */
export interface Transport {
  sendRequest(method: string, params: unknown, token?: CancellationTokenLike): Promise<unknown>;
}

/** Something with vscode-jsonrpc's `sendRequest(method, ...params)`: a MessageConnection or a LanguageClient. */
export interface JsonRpcSender {
  sendRequest(method: string, ...args: unknown[]): Promise<unknown>;
}

/** A Transport over vscode-jsonrpc. The token is passed only when there is one: vscode-jsonrpc takes a
 *  trailing `undefined` for one more positional param, and the daemon then receives `[params, null]`. */
export function jsonRpcTransport(sender: JsonRpcSender): Transport {
  return {
    sendRequest: (method, params, token) => (token ? sender.sendRequest(method, params, token) : sender.sendRequest(method, params)),
  };
}

export class NotSupportedError extends Error {
  constructor(
    readonly action: string,
    readonly missing: readonly Method[],
    readonly serverVersion: string,
  ) {
    super(notSupportedMessage(action, missing, serverVersion));
    this.name = 'NotSupportedError';
  }
}

export class OfflineError extends Error {
  constructor(readonly reason: string) {
    super(`the Dockyard daemon is not running (${reason})`);
    this.name = 'OfflineError';
  }
}

export function notSupportedMessage(action: string, missing: readonly Method[], serverVersion: string): string {
  const names = missing.map((m) => `\`${m}\``).join(', ');
  const what = missing.length === 1 ? 'that method' : 'those methods';
  return `${action}: this Dockyard daemon (version ${serverVersion}) does not support ${names} yet, so ${what} cannot be used. Update the daemon to a version that lists it in its features.`;
}

export class DockyardApi {
  private transport: Transport | undefined;
  private caps: DockyardCapabilities | undefined;
  private offlineReason = 'not started yet';
  private readonly changed = new Emitter<void>();
  /** Fires when the daemon connects or goes away. */
  readonly onDidChange = this.changed.event;

  connect(transport: Transport, caps: DockyardCapabilities): void {
    this.transport = transport;
    this.caps = caps;
    this.changed.fire();
  }

  disconnect(reason: string): void {
    this.transport = undefined;
    this.offlineReason = reason;
    this.changed.fire();
  }

  get connected(): boolean {
    return this.transport !== undefined;
  }

  get capabilities(): DockyardCapabilities | undefined {
    return this.caps;
  }

  get serverVersion(): string {
    return this.caps?.serverVersion ?? 'unknown';
  }

  supports(method: Method): boolean {
    return this.caps?.features.includes(method) ?? false;
  }

  /** The methods of `methods` this daemon lacks (empty: all there). */
  missing(...methods: Method[]): Method[] {
    return methods.filter((m) => !this.supports(m));
  }

  /** Throws NotSupportedError (naming `action` and every missing method) unless all are implemented. */
  require(action: string, ...methods: Method[]): void {
    this.ensureConnected();
    const missing = this.missing(...methods);
    if (missing.length > 0) {
      throw new NotSupportedError(action, missing, this.serverVersion);
    }
  }

  async request<K extends Method>(method: K, params: ParamsOf<K>, token?: CancellationTokenLike): Promise<ResultOf<K>> {
    const transport = this.ensureConnected();
    if (!this.supports(method)) {
      throw new NotSupportedError(method, [method], this.serverVersion);
    }
    return (await transport.sendRequest(method, params, token)) as ResultOf<K>;
  }

  private ensureConnected(): Transport {
    if (this.transport === undefined) {
      throw new OfflineError(this.offlineReason);
    }
    return this.transport;
  }
}
