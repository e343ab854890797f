/** What every Bedrock answer in the emulator shares: AWS request ids, error bodies and binary writes. */
import { type Exchange, nextRequestId, sendJson } from './exchange.ts';
import { hashOf } from './replies.ts';

/** Where Bedrock's own exceptions say they come from (`x-amzn-errortype: Name:<namespace>`). */
export const BEDROCK_NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
/** Where the front door's exceptions (auth, unknown operation) come from. */
export const CORAL_NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.coral.service/';

/** A request id in AWS's shape (a UUID), from the emulator's counter so runs are reproducible. */
export function awsRequestId(): string {
  const hex = hashOf(nextRequestId('')).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface AwsErrorOptions {
  namespace?: string;
  /** The body key: `message` (Bedrock's exceptions) or `Message` (some front-door ones). */
  messageKey?: 'message' | 'Message';
  /** Appended to the `x-amzn-errortype` value (the API-key front door adds `#Name`). */
  typeSuffix?: string;
  headers?: Record<string, string>;
}

/** An AWS JSON error: the status, `x-amzn-errortype: Name:namespace` and `{"message": …}`. */
export function sendAwsError(
  exchange: Exchange,
  status: number,
  name: string,
  message: string,
  requestId: string,
  options: AwsErrorOptions = {},
): void {
  sendJson(
    exchange,
    status,
    { [options.messageKey ?? 'message']: message },
    {
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': `${name}:${options.namespace ?? BEDROCK_NAMESPACE}${options.typeSuffix ?? ''}`,
      ...options.headers,
    },
  );
}

/** Writes bytes to the response; false once the client has gone. */
export function writeBytes(exchange: Exchange, bytes: Uint8Array): boolean {
  const { res } = exchange;
  if (res.destroyed || res.writableEnded) return false;
  res.write(bytes);
  return true;
}
