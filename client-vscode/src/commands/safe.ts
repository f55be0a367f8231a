/** Every command runs through here: nothing a command throws escapes as an unhandled rejection. */
import { NotSupportedError, OfflineError } from '../api';
import { describeError, isRpcError } from '../errors';
import { ErrorCodes } from '../protocol';
import type { CommandContext } from './context';
import { CMD } from './ids';

export async function reportError(ctx: CommandContext, error: unknown): Promise<void> {
  if (error instanceof NotSupportedError) {
    await ctx.ui.info(error.message);
    return;
  }
  if (error instanceof OfflineError) {
    const choice = await ctx.ui.error(
      `Dockyard: ${error.message}. Check the "dockyard.serverPath" setting and the Dockyard output, then restart the server.`,
      'Restart Server',
      'Show Output',
    );
    if (choice === 'Restart Server') await ctx.execute(CMD.restartServer);
    if (choice === 'Show Output') await ctx.execute(CMD.showServerOutput);
    return;
  }
  if (isRpcError(error) && error.code === ErrorCodes.REQUEST_CANCELLED) return;
  await ctx.ui.error(`Dockyard: ${describeError(error)}`);
}

export async function runSafely(ctx: CommandContext, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    try {
      await reportError(ctx, error);
    } catch {
      // the message itself failed (window closing): nothing left to tell anyone
    }
  }
}
