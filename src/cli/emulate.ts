/** `llmf emulate`: runs the emulator in the foreground until interrupted. */
import { FAULT_DESCRIPTIONS, startEmulator } from '../emulator/index.ts';

export interface EmulateFlags {
  port: number;
  host: string;
  latencyMs?: number;
  ttftMs?: number;
  tokensPerSecond?: number;
  fault?: string;
  retryAfterMs?: number;
}

export async function runEmulate(flags: EmulateFlags, out: NodeJS.WritableStream): Promise<void> {
  const options: Parameters<typeof startEmulator>[0] = { port: flags.port, host: flags.host };
  if (flags.latencyMs !== undefined) options.latencyMs = flags.latencyMs;
  if (flags.ttftMs !== undefined) options.timeToFirstTokenMs = flags.ttftMs;
  if (flags.tokensPerSecond !== undefined) options.tokensPerSecond = flags.tokensPerSecond;
  if (flags.fault !== undefined) options.fault = flags.fault;
  if (flags.retryAfterMs !== undefined) options.retryAfterMs = flags.retryAfterMs;
  const emulator = await startEmulator(options);
  out.write(`llm-factory emulator listening on ${emulator.url}\n`);
  out.write(`  OpenAI:  OPENAI_BASE_URL=${emulator.url}/v1 OPENAI_API_KEY=anything\n`);
  out.write(`  Azure:   AZURE_OPENAI_ENDPOINT=${emulator.url} AZURE_OPENAI_API_KEY=anything\n`);
  out.write(`  Anthropic: ANTHROPIC_BASE_URL=${emulator.url} ANTHROPIC_API_KEY=anything\n`);
  out.write(`  Gemini:  GOOGLE_GEMINI_BASE_URL=${emulator.url} GEMINI_API_KEY=anything\n`);
  out.write(
    `  Bedrock: baseURL ${emulator.url}, region us-east-1, AWS_ACCESS_KEY_ID=EMULATORKEYID AWS_SECRET_ACCESS_KEY=emulator-secret\n`,
  );
  out.write(`  Ollama:  OLLAMA_HOST=${emulator.url}\n`);
  out.write(
    `Faults by header x-emulator-fault: <kind>[:n] — ${Object.keys(FAULT_DESCRIPTIONS).join(', ')}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.close();
}
