/** The fault matrix on Azure's deployment URLs: as OpenAI's, except that Azure refuses content with an error. */
import { LLMContentFilterError } from '../spec/errors.ts';
import { describeFaultMatrix } from '../test-support/fault-rig.ts';

const refused = {
  persistent: { type: LLMContentFilterError, attempts: 1 },
  transient: { type: LLMContentFilterError, attempts: 1 },
};

describeFaultMatrix({
  provider: 'azure',
  client: (factory, url, options) =>
    factory.createClient('azure', {
      apiKey: 'azure-fault-matrix-key',
      model: 'gpt-4o-mini',
      ...options,
      endpoint: url,
    }),
  nonStreaming: { 'content-filter': refused },
  streaming: { 'content-filter': refused },
});
