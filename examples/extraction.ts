/**
 * The seed's ExtractionService, with structured output: entities and relations from a text, validated
 * against a zod schema instead of parsed by hand.
 *
 *   npx node examples/extraction.ts "Ada Lovelace worked with Charles Babbage in London."
 *   LLMF_MODEL=anthropic/claude-sonnet-4-6 npx node examples/extraction.ts "…"
 */
import type { LLMClient } from 'llm-factory';
import { z } from 'zod';
import { openClient } from './offline.ts';

export const Extraction = z.object({
  entities: z.array(
    z.object({
      name: z.string().describe('The entity as written in the text'),
      type: z.enum(['person', 'organization', 'place', 'date', 'other']),
    }),
  ),
  relations: z.array(
    z.object({
      subject: z.string(),
      predicate: z.string().describe('A short verb phrase, e.g. "worked with"'),
      object: z.string(),
    }),
  ),
});
export type Extraction = z.infer<typeof Extraction>;

export class ExtractionService {
  readonly #llm: LLMClient;

  constructor(llm: LLMClient) {
    this.#llm = llm;
  }

  async extractEntities(text: string): Promise<Extraction> {
    const { object } = await this.#llm.generateObject({
      schema: Extraction,
      name: 'extraction',
      system: 'Extract every named entity and the relations the text states between them.',
      prompt: text,
      temperature: 0,
    });
    return object;
  }
}

if (import.meta.main) {
  const text =
    process.argv.slice(2).join(' ') || 'Ada Lovelace worked with Charles Babbage in London in 1843.';
  const client = await openClient();
  try {
    const extraction = await new ExtractionService(client.llm).extractEntities(text);
    console.log(JSON.stringify(extraction, null, 2));
  } finally {
    await client.close();
  }
}
