// The audit log's writer thread (sqlite-audit-log.ts). A worker does not inherit tsx's loader: register it
// here, then run the TypeScript body, which shares the chain code with everything else.
import { register } from 'tsx/esm/api';

register();
await import('./audit-writer-thread.ts');
