// Bootstrap of the event journal's ingest worker (worker_threads): the worker needs tsx's loader for the
// TypeScript sources whether or not the parent process was started with `--import tsx`.
import { register } from 'tsx/esm/api';

register();
await import('./journal-worker-main.ts');
