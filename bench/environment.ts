/** The machine and software a run measured, for the top of the report. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './processes.ts';
import type { Environment } from './results.ts';

function git(...gitArgs: string[]): string {
  try {
    return execFileSync('git', gitArgs, { cwd: REPOSITORY_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function packageVersion(name: string): string {
  try {
    const manifest = readFileSync(join(REPOSITORY_ROOT, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(manifest) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function describeEnvironment(quick: boolean): Environment {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: os.cpus() said it
  }
  const packages: Record<string, string> = {};
  for (const name of [
    'undici',
    'gpt-tokenizer',
    'openai',
    'ai',
    '@ai-sdk/openai',
    'js-tiktoken',
    'tiktoken',
  ]) {
    packages[name] = packageVersion(name);
  }
  return {
    date: new Date().toISOString(),
    cpuModel,
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    packages,
    gitCommit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    srcChanges: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length,
    quick,
    durationS: 0,
  };
}
