import type { PipelineInput } from '../schema';

/** Order events enriched with each restaurant's city, summarized per city and minute back to Kafka. */
export const pipeline = {
  name: 'order-events',
  description: 'Orders and amounts per city in 1-minute event-time windows, from the orders topic to order-summary.',
  kind: 'streaming',
  triggerSeconds: 30,
  source: { type: 'kafka', topic: 'orders', format: 'json' },
  references: [{ type: 's3', bucket: 'curated', prefix: 'reference/restaurants/', format: 'csv', as: 'restaurants' }],
  schema: [
    { name: 'order_id', type: 'string' },
    { name: 'restaurant_id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'event_time', type: 'timestamp' },
  ],
  quality: { required: ['order_id', 'restaurant_id', 'amount', 'event_time'], ranges: [{ field: 'amount', min: 0 }] },
  steps: ['enrich.sql', 'summarize.sql'],
  window: { column: 'event_time', unit: 'minute', watermarkMinutes: 2 },
  // One summary per window and city: the key under which the topic keeps it, however often it is sent.
  sink: { type: 'kafka', topic: 'order-summary', key: ['window_start', 'city'] },
  rejects: { type: 'kafka', topic: 'orders.dlq' },
  alerts: { maxLag: 5000, staleAfterMinutes: 10 },
} satisfies PipelineInput;
