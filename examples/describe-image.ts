/**
 * Describing an image: bytes from a file (or a small built-in PNG), sent as an image part. A URL works the
 * same way (`image: new URL('https://…')`); providers that cannot fetch URLs get it downloaded and inlined.
 *
 *   npx node examples/describe-image.ts photo.jpg
 */
import { readFileSync } from 'node:fs';
import { openClient } from './offline.ts';

/** A 1×1 red PNG, so that the example runs without a file. */
const RED_PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

if (import.meta.main) {
  const path = process.argv[2];
  const image = path ? readFileSync(path) : RED_PIXEL;
  const client = await openClient();
  try {
    const result = await client.llm.complete({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe this image in one sentence.' },
            { type: 'image', image },
          ],
        },
      ],
      maxTokens: 200,
    });
    console.log(result.text);
  } finally {
    await client.close();
  }
}
