#!/usr/bin/env node
// Entry point for `npx mailbeacon`: runs the TypeScript sources through tsx so a checkout works
// right after `npm install`, with no separate build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
