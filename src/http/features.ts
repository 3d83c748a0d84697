// Every feature's HTTP surface, in registration order.
import type { HttpFeature } from './http-feature.ts';
import { accountsFeature } from '../accounts/accounts-http.ts';
import { dashboardFeature } from '../dashboard/dashboard-http.ts';
import { trackingFeature } from '../tracking/tracking-http.ts';
import { eventsFeature } from '../events/events-http.ts';
import { statsFeature } from '../stats/stats-http.ts';
import { webhooksFeature } from '../webhooks/webhooks-http.ts';
import { messagesFeature } from '../outbound/messages-http.ts';
import { domainsFeature } from '../domains/domains-http.ts';

export function allFeatures(): HttpFeature[] {
  return [
    accountsFeature,
    dashboardFeature,
    trackingFeature,
    eventsFeature,
    statsFeature,
    webhooksFeature,
    messagesFeature,
    domainsFeature,
  ];
}
