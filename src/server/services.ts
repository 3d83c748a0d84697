// Every background service, by role. Each factory returns nothing when its role is off.
import type { ServiceFactory } from './service.ts';

export const serviceFactories: ServiceFactory[] = [];
