/**
 * Pre-tokens longer than `MAX_PRETOKEN_CHARS` (a run of one letter, of emoji, of spaces, with no break) are
 * counted in parts: linear instead of quadratic, and within a few tokens per part of the exact count; every
 * other text is counted exactly as gpt-tokenizer counts it whole.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import { countOpenAITokens, MAX_PRETOKEN_CHARS } from './openai-tokenizer.ts';

const require = createRequire(import.meta.url);
const ORDINARY = { disallowedSpecial: new Set<string>() };
type Counter = { countTokens(text: string, options: typeof ORDINARY): number };
const whole: Record<string, Counter> = {
  'gpt-4o': require('gpt-tokenizer/cjs/encoding/o200k_base') as Counter,
  'gpt-4': require('gpt-tokenizer/cjs/encoding/cl100k_base') as Counter,
};

/** Words, numbers, symbols and spaces of every script, each far shorter than the limit. */
const word = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  fc.stringMatching(/^[a-z]{1,20}$/),
  fc.constantFrom(
    ' ',
    '  ',
    '\n',
    '\r\n',
    '\t',
    '. ',
    "'s ",
    '123456',
    '日本語のテキスト',
    '👩‍👩‍👧‍👦',
    '//',
    '\u00a0',
  ),
);

test('text of ordinary pre-tokens, however long, is counted exactly', () => {
  fc.assert(
    fc.property(
      fc.array(word, { minLength: 1, maxLength: 400 }),
      fc.constantFrom('gpt-4o', 'gpt-4'),
      (words, model) => {
        const text = words.join(words.length % 3 === 0 ? '' : ' ');
        fc.pre(!/\S{128,}|\s{128,}/.test(text));
        assert.equal(countOpenAITokens(text, model), whole[model]!.countTokens(text, ORDINARY));
      },
    ),
    { numRuns: 300 },
  );
});

test('over-long pre-tokens are counted within three tokens per part of the exact count', () => {
  fc.assert(
    fc.property(
      fc.array(word, { maxLength: 20 }),
      fc.constantFrom('x', 'ab', '👩‍👩‍👧‍👦', ' ', '!?', '漢', '9'),
      fc.integer({ min: MAX_PRETOKEN_CHARS, max: 3_000 }),
      fc.constantFrom('gpt-4o', 'gpt-4'),
      (words, unit, length, model) => {
        const text = `${words.join(' ')}${unit.repeat(Math.ceil(length / unit.length))}${words.join(' ')}`;
        const exact = whole[model]!.countTokens(text, ORDINARY);
        const parts = Math.ceil(text.length / MAX_PRETOKEN_CHARS) + 2;
        const count = countOpenAITokens(text, model);
        assert.ok(Math.abs(count - exact) <= 3 * parts, `${unit} × ${length}: ${count}, exactly ${exact}`);
      },
    ),
    { numRuns: 60 },
  );
});

// Regression: a 100 000-character run took 3 s (24 s of emoji), a megabyte hours; the test's own timeout is
// the guard (nothing here measures time).
test('a run of a megabyte with no break is counted without stalling', { timeout: 30_000 }, () => {
  for (const unit of ['x', '👩‍👩‍👧‍👦', ' ', '#']) {
    const text = `start ${unit.repeat(Math.ceil(1_000_000 / unit.length))} end`;
    const count = countOpenAITokens(text, 'gpt-4o');
    assert.ok(count > 0 && count <= Buffer.byteLength(text), `${JSON.stringify(unit)}: ${count}`);
  }
});
