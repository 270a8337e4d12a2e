#!/usr/bin/env node
// `npx xr-gateway <command>`: the CLI is TypeScript (gateway/cli.ts), run through tsx like `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../gateway/cli.ts');
await main();
