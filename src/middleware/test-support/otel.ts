/**
 * OpenTelemetry SDKs registered globally for a test process: a meter provider whose reader the test
 * collects from by hand, and a tracer provider that keeps finished spans in memory.
 */
import { metrics, trace } from '@opentelemetry/api';
import {
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A reader that exports nothing on its own: `collect()` when the test wants the numbers. */
class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export function registerMeterProvider(): { metrics(): Promise<MetricData[]>; shutdown(): Promise<void> } {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  if (!metrics.setGlobalMeterProvider(provider)) throw new Error('a global meter provider was already set');
  return {
    async metrics() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The histogram named `name`, or a failure naming what there was. */
export function histogram(all: MetricData[], name: string): HistogramMetricData {
  const found = all.find((metric) => metric.descriptor.name === name);
  if (!found) throw new Error(`no ${name} among ${all.map((metric) => metric.descriptor.name).join(', ')}`);
  return found as HistogramMetricData;
}

export function registerTracerProvider(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a global tracer provider was already set');
  return exporter;
}
