/** Small Markdown helpers the report sections share. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percent, spread } from './stats.ts';

/**
 * Writes `section` (which starts with `<!-- name:start -->` and ends with `<!-- name:end -->`) into the report
 * named by `--report=<file>` (default bench/RESULTS.md): in place of the section's previous version, or at
 * the end. The rest of the file is left as it is.
 */
export function writeSection(name: string, section: string): void {
  const reportArgument = process.argv.find((arg) => arg.startsWith('--report='));
  const file = reportArgument
    ? reportArgument.slice('--report='.length)
    : join(import.meta.dirname, 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const pattern = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->\\n?`);
  writeFileSync(
    file,
    pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}`,
  );
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function status(met: boolean | undefined, borderline = false): string {
  if (met === undefined) return 'not measured';
  const verdict = met ? '**met**' : '**missed**';
  return borderline ? `${verdict} (borderline: within 10 % of the limit)` : verdict;
}

/** A sentence on how busy the rest of the machine was while these workers ran. */
export function loadNote(shares: ReadonlyArray<number | undefined>): string {
  const known = shares.filter((share): share is number => share !== undefined);
  if (known.length === 0) return '';
  const load = spread(known);
  const noisy =
    load.max > 0.1 ? ' Runs that overlapped with that load are noisier; the medians damp it.' : '';
  return ` Other processes on the machine used ${percent(load.median)} of its CPU (median; max ${percent(load.max)}) while these workers ran.${noisy}`;
}
