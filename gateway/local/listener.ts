/**
 * The local listener (PROTOCOL §6): Huzhou's own systems hand out-of-area messages to the gateway.
 * Authorised by XR_LOCAL_TOKEN.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import { requireRole, type TokenTable } from '../http/auth.ts';
import { problemResponder } from '../http/problem.ts';

export interface LocalListenerOptions {
  tokens: TokenTable;
  log: Logger;
}

export function localListener(options: LocalListenerOptions): Koa {
  const app = new Koa();
  const router = new Router();
  app.use(problemResponder(options.log));
  app.use(requireRole(options.tokens, ['local']));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
