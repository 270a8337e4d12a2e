// The translation thread run from TypeScript (tests, tsx): a worker does not inherit tsx's loader, so it is
// registered here first. Compiled (dist/), translation-thread.ts starts translation-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./translation-worker.ts');
