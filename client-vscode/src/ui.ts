/** The window API the commands use, as a small interface: the real one wraps `vscode.window`, tests fake it. */
import type { CancellationTokenLike } from './api';

export interface PickItem {
  label: string;
  description?: string;
  detail?: string;
  picked?: boolean;
}

export interface InputOptions {
  title?: string;
  prompt: string;
  placeHolder?: string;
  value?: string;
  validateInput?: (value: string) => string | undefined;
}

export interface PickOptions {
  title?: string;
  placeHolder: string;
}

export interface Ui {
  pick<T extends PickItem>(items: readonly T[], options: PickOptions): Promise<T | undefined>;
  pickMany<T extends PickItem>(items: readonly T[], options: PickOptions): Promise<T[] | undefined>;
  input(options: InputOptions): Promise<string | undefined>;
  info(message: string, ...actions: string[]): Promise<string | undefined>;
  error(message: string, ...actions: string[]): Promise<string | undefined>;
  /** A modal confirmation; resolves to the chosen action, undefined when cancelled. */
  confirm(message: string, detail: string, ...actions: string[]): Promise<string | undefined>;
  /** Run `work` with a progress notification; `cancellable` adds a Cancel button wired to the token. */
  withProgress<T>(title: string, cancellable: boolean, work: (token: CancellationTokenLike) => Promise<T>): Promise<T>;
}
