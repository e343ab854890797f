/**
 * A two-tool agent: the model looks up the weather and converts the temperature, then answers. `runTools`
 * runs the calls it asks for (in parallel when it asks for several), sends the results back, and stops when
 * the model answers.
 *
 *   npx node examples/agent.ts "What is the weather in Oslo, in Fahrenheit?"
 */
import { tool } from 'llm-factory';
import { z } from 'zod';
import { openClient } from './offline.ts';

const weather = tool({
  name: 'get_weather',
  description: 'The current weather in a city, temperature in Celsius',
  parameters: z.object({ city: z.string() }),
  execute: ({ city }) => ({ city, temperatureC: 11 + (city.length % 7), sky: 'overcast' }),
});

const convert = tool({
  name: 'convert_temperature',
  description: 'Converts a temperature from Celsius to Fahrenheit',
  parameters: z.object({ celsius: z.number() }),
  execute: ({ celsius }) => ({ fahrenheit: Math.round((celsius * 9) / 5 + 32) }),
});

if (import.meta.main) {
  const question =
    process.argv.slice(2).join(' ') || 'Use get_weather for Oslo, then convert_temperature to Fahrenheit.';
  const client = await openClient();
  try {
    const run = await client.llm.runTools({ prompt: question, tools: [weather, convert], maxSteps: 5 });
    for (const [index, step] of run.steps.entries()) {
      for (const result of step.toolResults)
        console.error(`step ${index + 1}: ${result.toolName} → ${result.content}`);
    }
    console.log(run.text);
    console.error(`${run.steps.length} model calls, ${run.usage.totalTokens} tokens`);
  } finally {
    await client.close();
  }
}
