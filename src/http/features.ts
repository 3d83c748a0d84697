// Every feature's HTTP surface, in registration order.
import type { HttpFeature } from './http-feature.ts';
import { accountsFeature } from '../accounts/accounts-http.ts';
import { dashboardFeature } from '../dashboard/dashboard-http.ts';
import { trackingFeature } from '../tracking/tracking-http.ts';

export function allFeatures(): HttpFeature[] {
  return [accountsFeature, dashboardFeature, trackingFeature];
}
