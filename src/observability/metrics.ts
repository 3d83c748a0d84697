// Prometheus metrics. One registry per running app (not prom-client's global), so tests can run several
// apps in one process. Features add their metrics here so every name is defined once.
import client from 'prom-client';

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  // `collect`: called when the metric is read (scrape), to fold in values kept elsewhere.
  const counter = (name: string, help: string, labelNames: string[] = [], collect?: () => void) =>
    new client.Counter({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  const histogram = (name: string, help: string, labelNames: string[] = [], buckets?: number[]) =>
    new client.Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });
  const gauge = (name: string, help: string, labelNames: string[] = [], collect?: () => void) =>
    new client.Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  return {
    registry,
    counter,
    histogram,
    gauge,
    httpRequests: counter('mailbeacon_http_requests_total', 'HTTP requests answered', ['route', 'status']),
    httpDuration: histogram('mailbeacon_http_request_duration_seconds', 'HTTP request duration', ['route'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
