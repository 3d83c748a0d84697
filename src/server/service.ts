import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';

export type Role = 'http' | 'smtp' | 'worker' | 'tracking';

/** A long-running part of the server (SMTP listener, delivery worker, webhook dispatcher, ...). */
export interface Service {
  name: string;
  start(): Promise<void>;
  /** Stop taking new work, finish what is in flight, release resources. */
  stop(): Promise<void>;
  /** Called with the HTTP app before start(), for services that serve the same routes (the HTTPS listener). */
  attachHttp?(app: FastifyInstance): void;
}

/** Makes the services for the roles this process runs; features add theirs in server/services.ts. */
export type ServiceFactory = (ctx: AppContext, roles: Set<Role>) => Service | Service[] | undefined | Promise<Service | Service[] | undefined>;
