/**
 * Text to count and embed, taken from the installed (lockfile-pinned) packages so every machine with the
 * same install gets the same bytes: English documentation (every non-changelog Markdown file under
 * node_modules) and JavaScript (undici's `lib/`). Documents are read in path order; duplicates dropped.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const NODE_MODULES = join(import.meta.dirname, '..', 'node_modules');

export interface Corpus {
  name: string;
  description: string;
  documents: string[];
  bytes: number;
  /** First 16 hex digits of the SHA-256 of every document in order. */
  fingerprint: string;
}

function collect(root: string, keep: (path: string) => boolean): string[] {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((relative) => join(root, relative))
    .filter(keep)
    .sort();
  const seen = new Set<string>();
  const documents: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // a directory that looked like a file, or a dangling link
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (text.length === 0 || seen.has(hash)) continue;
    seen.add(hash);
    documents.push(text);
  }
  return documents;
}

function corpus(name: string, description: string, documents: string[]): Corpus {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const document of documents) {
    hash.update(document);
    bytes += Buffer.byteLength(document);
  }
  return { name, description, documents, bytes, fingerprint: hash.digest('hex').slice(0, 16) };
}

/** English prose: READMEs and docs of the installed packages (Markdown, some code blocks). */
export function proseCorpus(): Corpus {
  const documents = collect(
    NODE_MODULES,
    (path) => /\.md$/i.test(path) && !/changelog|\/\.bin\//i.test(path),
  );
  return corpus('prose', 'English docs: non-changelog *.md under node_modules, one call per file', documents);
}

/** Source code: undici's lib/ (JavaScript). */
export function codeCorpus(): Corpus {
  const documents = collect(join(NODE_MODULES, 'undici', 'lib'), (path) => path.endsWith('.js'));
  return corpus('code', 'JavaScript: node_modules/undici/lib/**/*.js, one call per file', documents);
}

/** Lines of prose between 20 and 400 characters: chat-message-sized strings. */
export function proseLines(documents: readonly string[]): string[] {
  const lines: string[] = [];
  for (const document of documents) {
    for (const line of document.split('\n')) {
      const trimmed = line.trim();
      if (trimmed.length >= 20 && trimmed.length <= 400) lines.push(trimmed);
    }
  }
  return lines;
}

/** Short messages: the first 20,000 prose lines, one call each (where per-call overhead shows). */
export function shortTextsCorpus(prose: Corpus): Corpus {
  return corpus(
    'short',
    'prose lines of 20–400 characters, one call per line (per-call overhead)',
    proseLines(prose.documents).slice(0, 20_000),
  );
}

/** `count` texts for the embeddings run: prose lines, cycled. */
export function embeddingTexts(count: number): string[] {
  const lines = proseLines(proseCorpus().documents).filter((line) => line.length >= 40);
  return Array.from({ length: count }, (_, index) => lines[index % lines.length]!);
}
