import type { PipelineInput } from '../schema';

/** Order events enriched with each restaurant's city, summarized per city and minute back to Kafka. */
export const pipeline = {
  name: 'order-events',
  description: 'Orders and amounts per city in 1-minute event-time windows, from the orders topic to order-summary.',
  kind: 'streaming',
  sources: [
    { type: 'kafka', topic: 'orders' },
    { type: 's3', bucket: 'curated', prefix: 'reference/restaurants/' },
  ],
  sinks: [{ type: 'kafka', topic: 'order-summary' }],
  rejects: { type: 'kafka', topic: 'orders.dlq' },
} satisfies PipelineInput;
