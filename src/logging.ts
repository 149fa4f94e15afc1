import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Logs must never carry a phone number or an IP address. Two layers:
 * 1. Known fields are removed by path (pino's redaction): credentials, and any
 *    `phone`, `ip`, `phoneNumber`, `ipAddresses` field at any of the first levels.
 * 2. Every string that is logged is scrubbed of anything shaped like a phone
 *    number or an IP address, so a value that slips into a message or an error
 *    (a driver error quoting a row, say) is masked too.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-forwarded-for"]',
  'headers.authorization',
  'req.headers["x-csrf-token"]',
  'token',
  '*.token',
  // Sign-in secrets, should a body or a result ever be logged.
  ...['password', 'totp', 'totpSecret', 'csrfToken', 'cookieValue'].flatMap((k) => [k, `*.${k}`]),
  ...['phone', 'ip', 'phoneNumber', 'ipAddresses', 'remoteAddress'].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
// An IPv6 address has "::" or at least five colons; this spares clock times such as 12:30:05.
const IPV6 = /(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])/g;
const PHONE = /\+\d[\d\s().-]{5,}\d/g;

export function scrubPersonalData(text: string): string {
  return text
    .replace(PHONE, '[phone]')
    .replace(IPV4, '[ip]')
    .replace(IPV6, (m) => (m.includes('::') || m.split(':').length >= 6 ? '[ip]' : m));
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubPersonalData(value);
  // Errors keep their message, type and stack only through pino's serializer.
  if (value instanceof Error) return scrubDeep(pino.stdSerializers.err(value), depth);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

/** Creates the process logger; `destination` lets tests capture the lines. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'custos' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // The log formatter may already have turned the error into a plain, scrubbed object.
        err: (err: Error) =>
          (err instanceof Error ? scrubDeep(pino.stdSerializers.err(err)) : err) as ReturnType<
            typeof pino.stdSerializers.err
          >,
      },
      formatters: {
        log: (object) => scrubDeep(object) as Record<string, unknown>,
        bindings: (bindings) => scrubDeep(bindings) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubPersonalData(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    destination,
  );
}
