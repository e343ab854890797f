/** Small Markdown helpers the report sections share. */
import { percent, spread } from './stats.ts';

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
