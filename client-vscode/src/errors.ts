/** Turning daemon errors (JSON-RPC error objects) into one readable sentence for `showErrorMessage`. */
import { ErrorCodes } from './protocol';

export interface RpcErrorLike {
  code: number;
  message: string;
  data?: unknown;
}

export function isRpcError(value: unknown): value is RpcErrorLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'number' && typeof v.message === 'string';
}

function field(data: unknown, key: string): unknown {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Record<string, unknown>)[key]
    : undefined;
}

/** The pydantic error list of a -32602 reply, as `loc: msg` strings. */
function validationErrors(data: unknown): string[] {
  if (!Array.isArray(data)) return [];
  return data.flatMap((item: unknown) => {
    const msg = field(item, 'msg');
    const loc = field(item, 'loc');
    if (typeof msg !== 'string') return [];
    const where = Array.isArray(loc) ? loc.map(String).join('.') : '';
    return [where ? `${where}: ${msg}` : msg];
  });
}

export function describeRpcError(error: RpcErrorLike): string {
  const { code, message, data } = error;
  switch (code) {
    case ErrorCodes.POLICY_REFUSED: {
      const name = field(data, 'field');
      return typeof name === 'string' ? `${message} (field: ${name})` : message;
    }
    case ErrorCodes.INVALID_PARAMS: {
      const details = validationErrors(data);
      return details.length > 0 ? `${message}: ${details.join('; ')}` : message;
    }
    case ErrorCodes.MERGE_CONFLICT: {
      const files = Array.isArray(data) ? data : field(data, 'files');
      return Array.isArray(files) && files.length > 0 ? `${message}; conflicting files: ${files.join(', ')}` : message;
    }
    default:
      return message;
  }
}

export function describeError(error: unknown): string {
  if (isRpcError(error)) return describeRpcError(error);
  if (error instanceof Error) return error.message;
  return String(error);
}
