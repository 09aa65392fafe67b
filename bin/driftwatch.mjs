#!/usr/bin/env node
// Runs the TypeScript CLI in place (tsx), so `npx driftwatch` works right after `npm ci`
// with no build step to remember.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
