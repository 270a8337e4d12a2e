/**
 * @peculiar/x509 and node-forge, loaded on first use. They serve admin and key-lifecycle work only (CSRs,
 * CRLs, PKCS #12 bundles, certificates for the development PKI and the tests), never a message, yet
 * imported at start they held ≈ 9.5 MB of resident memory in every gateway process (bench/results.md,
 * "Memory at start"). Both are CommonJS, so they load synchronously: the functions that use them keep their
 * signatures.
 */
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';
import type * as Forge from 'node-forge';

const requireHere = createRequire(import.meta.url);
let x509Module: typeof X509 | undefined;
let forgeModule: typeof Forge | undefined;

export function x509Library(): typeof X509 {
  x509Module ??= requireHere('@peculiar/x509') as typeof X509;
  return x509Module;
}

export function forgeLibrary(): typeof Forge {
  forgeModule ??= requireHere('node-forge') as typeof Forge;
  return forgeModule;
}
