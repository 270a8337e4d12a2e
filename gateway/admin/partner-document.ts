/**
 * Validation of a partner registration (PROTOCOL §7 `PUT /admin/v1/partners/{region}`): every field checked
 * and named when wrong, so an operator at night reads what to fix.
 */
import { XrError } from '../protocol/errors.ts';
import { MESSAGE_TYPES, isMessageType, type MessageType } from '../protocol/messages.ts';
import type { BreakerSettings, DeliverySettings, Partner } from '../store/store.ts';

function bad(field: string, problem: string): never {
  throw new XrError('XR_BAD_REQUEST', `${field}: ${problem}`);
}

function positiveIntegers<K extends string>(value: unknown, field: string, keys: readonly K[], limits: Record<K, [number, number]>): Partial<Record<K, number>> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(field, 'must be an object');
  const out: Partial<Record<K, number>> = {};
  for (const [key, setting] of Object.entries(value as Record<string, unknown>)) {
    if (!(keys as readonly string[]).includes(key)) bad(`${field}.${key}`, `unknown setting (known: ${keys.join(', ')})`);
    const [min, max] = limits[key as K];
    if (typeof setting !== 'number' || !Number.isInteger(setting) || setting < min || setting > max) {
      bad(`${field}.${key}`, `must be an integer from ${min} to ${max}`);
    }
    out[key as K] = setting;
  }
  return out;
}

/** An absolute http(s) URL with an authority, nothing in it a URL parser would have to drop or mend. */
const ENDPOINT_FORM = /^https?:\/\/[^\s/?#\\]+(?:\/[^\s\\]*)?$/i;
const DELIVERY_KEYS = ['timeoutMs', 'maxAttempts', 'backoffMs', 'maxBackoffMs'] as const;
const BREAKER_KEYS = ['volumeThreshold', 'errorThresholdPercentage', 'resetTimeoutMs'] as const;

export function partnerFromDocument(
  region: string,
  document: Record<string, unknown>,
  context: {
    ownRegion: string;
    knownRegion(code: string): boolean;
    knownFormat(name: string): boolean;
    /** The default registry's name and format for the region (config/partners.default.yaml), if it has one. */
    defaults: { name: string; format: string } | undefined;
    previous: Partner | undefined;
    now: Date;
  },
): Partner {
  if (!/^\d{6}$/.test(region)) bad('region', `"${region}" is not a six-digit region code`);
  if (!context.knownRegion(region)) bad('region', `${region} is not in the region table`);
  if (region === context.ownRegion) bad('region', `${region} is the gateway's own region`);
  const allowed = new Set(['name', 'endpoint', 'format', 'services', 'delivery', 'breaker', 'region']);
  for (const key of Object.keys(document)) if (!allowed.has(key)) bad(key, 'unknown field');
  if (document.region !== undefined && document.region !== region) bad('region', 'differs from the region in the path');

  const { endpoint, services } = document;
  const name = document.name ?? context.defaults?.name;
  const format = document.format ?? context.defaults?.format;
  if (typeof name !== 'string' || name.trim() === '') bad('name', 'must be a non-empty string');
  if (typeof endpoint !== 'string') bad('endpoint', 'must be the partner gateway\'s base URL');
  // As written, not as a URL parser would mend it: " http://h " or "http:/h" parse, but the stored text
  // is what {endpoint}/xr/v1/messages/{messageType} is made from.
  if (!ENDPOINT_FORM.test(endpoint)) bad('endpoint', 'must be written http(s)://host[:port][/path], without spaces');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    bad('endpoint', `"${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad('endpoint', 'must be http or https');
  // Messages go to {endpoint}/xr/v1/messages/{messageType} (PROTOCOL §6): a query or fragment would end up
  // in the middle of that URL, and credentials in it would be logged with the endpoint.
  if (endpoint.includes('?') || endpoint.includes('#')) bad('endpoint', 'must be a base URL without a query or fragment');
  if (url.username !== '' || url.password !== '') bad('endpoint', 'must not carry credentials');
  if (typeof format !== 'string' || !context.knownFormat(format)) bad('format', `${String(format)} is not a format the gateway has (GET /admin/v1/formats)`);
  if (!Array.isArray(services) || services.length === 0) bad('services', `must be a non-empty list of ${MESSAGE_TYPES.join(', ')}`);
  const serviceList: MessageType[] = [];
  for (const [i, service] of services.entries()) {
    if (typeof service !== 'string' || !isMessageType(service)) bad(`services[${i}]`, `${String(service)} is not one of ${MESSAGE_TYPES.join(', ')}`);
    if (!serviceList.includes(service)) serviceList.push(service);
  }
  const delivery = positiveIntegers<keyof DeliverySettings>(document.delivery, 'delivery', DELIVERY_KEYS, {
    timeoutMs: [100, 600_000], maxAttempts: [1, 1000], backoffMs: [1, 3_600_000], maxBackoffMs: [1, 86_400_000],
  });
  const breaker = positiveIntegers<keyof BreakerSettings>(document.breaker, 'breaker', BREAKER_KEYS, {
    volumeThreshold: [1, 100_000], errorThresholdPercentage: [1, 100], resetTimeoutMs: [100, 86_400_000],
  });
  if (delivery?.backoffMs !== undefined && delivery.maxBackoffMs !== undefined && delivery.backoffMs > delivery.maxBackoffMs) {
    bad('delivery.backoffMs', `${delivery.backoffMs} is more than maxBackoffMs (${delivery.maxBackoffMs})`);
  }
  const now = context.now.toISOString();
  return {
    region,
    name: name.trim(),
    endpoint: endpoint.replace(/\/+$/, ''),
    format,
    services: serviceList,
    ...(delivery ? { delivery } : {}),
    ...(breaker ? { breaker } : {}),
    createdAt: context.previous?.createdAt ?? now,
    updatedAt: now,
  };
}
