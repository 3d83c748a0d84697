// Every background service, by role. Each factory returns nothing when its role is off.
import type { ServiceFactory } from './service.ts';
import { retentionServiceFactory } from '../tracking/retention-service.ts';
import { webhookDispatcherFactory } from '../webhooks/dispatcher.ts';

export const serviceFactories: ServiceFactory[] = [
  retentionServiceFactory,
  webhookDispatcherFactory,
];
