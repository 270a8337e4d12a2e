/**
 * The process in which the cluster primary prepares the data directory (cluster.ts): what a first start
 * creates (the development PKI, generated tokens) and what every start settles (stored keys sealed with
 * XR_KEY_PASSPHRASE, ended overlaps retired), before any worker is forked.
 *
 * A process of its own, which then ends, because the primary never serves: SQLite, the key and certificate
 * code and their modules are needed for this moment only. Done on the primary's own thread they held
 * ≈ 25 MB of its resident memory for as long as it ran; on a thread of its own, about half of that stayed.
 */
import path from 'node:path';
import pino from 'pino';
import { ConfigError, type Settings } from '../config/settings.ts';
import { loadSigningIdentity } from './identity.ts';
import { createLogger } from './log.ts';
import { DATABASE_FILE, SqliteStore } from './store/sqlite-store.ts';
import { loadTokens, type Tokens } from './tokens.ts';

export interface PreparationRequest {
  settings: Settings;
}

export type PreparationReply =
  | { generated: Tokens['generated'] }
  /** variable: set when the failure is a ConfigError, so the primary reports it as one. */
  | { failure: string; variable?: string };

async function prepare(settings: Settings): Promise<Tokens['generated']> {
  const store = new SqliteStore(path.join(settings.dataDir, DATABASE_FILE));
  try {
    // Written at once: the process ends as soon as it has answered, before a gathered log would be flushed.
    await loadSigningIdentity(settings, store, createLogger(settings.logLevel, pino.destination({ dest: 1, sync: true })));
    return (await loadTokens(settings, store)).generated;
  } finally {
    await store.close();
  }
}

function replyOf(error: unknown): PreparationReply {
  if (error instanceof ConfigError) return { failure: error.problem, variable: error.variable };
  return { failure: error instanceof Error ? error.message : String(error) };
}

process.once('message', (request: PreparationRequest) => {
  prepare(request.settings)
    .then((generated): PreparationReply => ({ generated }), replyOf)
    .then((reply) => process.send!(reply, () => process.disconnect()));
});
