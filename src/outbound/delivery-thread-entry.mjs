// Entry of the delivery thread (delivery-thread.ts). Plain JavaScript: a worker_thread does not inherit
// the tsx loader that bin/mailbeacon.js registers, so this registers it before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./delivery-thread-main.ts');
