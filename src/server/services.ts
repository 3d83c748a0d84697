// Every background service, by role. Each factory returns nothing when its role is off.
import type { ServiceFactory } from './service.ts';
import { retentionServiceFactory } from '../tracking/retention-service.ts';
import { webhookDispatcherFactory } from '../webhooks/dispatcher.ts';
import { createSmtpService } from '../smtp/smtp-service.ts';
import { createDeliveryService } from '../outbound/delivery-thread.ts';
import { domainRecheckService } from '../domains/recheck-service.ts';
import { trackingHttpsService } from '../domains/https-service.ts';

export const serviceFactories: ServiceFactory[] = [
  retentionServiceFactory,
  webhookDispatcherFactory,
  (ctx, roles) => (roles.has('smtp') ? createSmtpService(ctx) : undefined),
  (ctx, roles) => (roles.has('worker') ? createDeliveryService(ctx) : undefined),
  domainRecheckService,
  trackingHttpsService,
];
