import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { Actor } from '../audit/actor.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import { type AccountInput, ingestAccounts } from '../accounts/service.js';
import { normalisePhone } from '../accounts/phone.js';
import { type AuthorityInput, createAuthority } from '../authorities/service.js';
import { ingestContent } from '../content/service.js';
import type { Context } from '../context.js';
import { decideCase } from '../decisions/service.js';
import { type ReviewInput, reviewLegalRequest, withdrawLegalRequest } from '../legal/review.js';
import { type LegalOrderInput, type LegalStatus, submitLegalRequest } from '../legal/service.js';
import type { CategoryCode } from '../policy/policy.js';
import { mulberry32 } from '../random.js';
import { fileReport } from '../reports/service.js';
import { type SessionInput, ingestSessions } from '../sessions/service.js';

export type DemoAuthorityKey = 'de' | 'tr';

/** Private keys of the demo authorities, kept in the data dir so a demo user can open their packages. */
export const DEMO_AUTHORITY_KEY_FILE = 'demo-authority-key.json';
export const DEMO_AUTHORITY2_KEY_FILE = 'demo-authority2-key.json';

/**
 * The German federal police, whose orders the default policy accepts, and a Turkish
 * prosecutor, whose orders it flags for the extra human-rights review.
 */
const DEMO_AUTHORITIES: Record<DemoAuthorityKey, Omit<AuthorityInput, 'publicJwk'> & { keyFile: string }> = {
  de: {
    name: 'Bundeskriminalamt (demo)',
    country: 'DE',
    kind: 'police',
    contactEmail: 'demo-authority@example.org',
    keyFile: DEMO_AUTHORITY_KEY_FILE,
  },
  tr: {
    name: 'Istanbul Chief Public Prosecutor (demo)',
    country: 'TR',
    kind: 'prosecutor',
    contactEmail: 'demo-authority2@example.org',
    keyFile: DEMO_AUTHORITY2_KEY_FILE,
  },
};

/** The demo authorities' ids, each registered on first use with a fresh ECDH-ES P-256 key pair. */
export async function demoAuthorities(ctx: Context): Promise<Record<DemoAuthorityKey, string>> {
  return { de: await demoAuthority(ctx, 'de'), tr: await demoAuthority(ctx, 'tr') };
}

async function demoAuthority(ctx: Context, key: DemoAuthorityKey): Promise<string> {
  const { keyFile, ...input } = DEMO_AUTHORITIES[key];
  const existing = await ctx.store.db
    .selectFrom('authorities')
    .select('id')
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (existing) return existing.id;
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ECDH-ES', use: 'enc' };
  const id = await createAuthority(ctx.store.db, SYSTEM_ACTOR('demo'), { ...input, publicJwk });
  fs.writeFileSync(
    path.join(ctx.config.dataDir, keyFile),
    `${JSON.stringify({ authorityId: id, privateJwk: await exportJWK(privateKey) }, null, 2)}\n`,
    { mode: 0o600 },
  );
  return id;
}

export interface LegalSeedActors {
  moderator: Actor;
  trustedFlagger: Actor;
  legal: Actor;
  legal2: Actor;
  legalSenior: Actor;
  /** Authority tokens: bound to their authority (`authorityId`). */
  authority: Actor;
  authority2: Actor;
}

interface DemoAccount {
  id: string;
  country: 'DE' | 'TR';
  /** A message a moderator removed: the confirmed violation the disclosure policy looks for. */
  violation?: { category: CategoryCode; text: string; language: string };
}

/** The accounts the orders name; none of them is one of the 300 platform accounts. */
const ACCOUNTS = {
  dealer: {
    id: 'demo-legal-de-01',
    country: 'DE',
    violation: {
      category: 'illegal_drugs',
      text: 'Koks und Ecstasy, Lieferung in ganz Berlin binnen einer Stunde. Preise per DM.',
      language: 'de',
    },
  },
  threat: {
    id: 'demo-legal-de-02',
    country: 'DE',
    violation: {
      category: 'violent_threat',
      text: 'Morgen früh um acht bin ich an der Schule, und dann bezahlt ihr alle dafür.',
      language: 'de',
    },
  },
  pending: {
    id: 'demo-legal-de-03',
    country: 'DE',
    violation: {
      category: 'illegal_drugs',
      text: 'Gras und Pillen ab 10 €, nur Abholung, schreib mir.',
      language: 'de',
    },
  },
  fraud: {
    id: 'demo-legal-de-04',
    country: 'DE',
    violation: {
      category: 'scam_fraud',
      text: 'Schick 0,1 BTC an diese Wallet und du bekommst garantiert 1 BTC zurück!',
      language: 'de',
    },
  },
  gunseller: {
    id: 'demo-legal-de-05',
    country: 'DE',
    violation: { category: 'weapons', text: 'Pistolen ohne Papiere, Übergabe am Bahnhof.', language: 'de' },
  },
  preserved: {
    id: 'demo-legal-de-06',
    country: 'DE',
    violation: { category: 'illegal_drugs', text: 'Neue Lieferung Crystal, Mengenrabatt ab 5 g.', language: 'de' },
  },
  narrowedKept: {
    id: 'demo-legal-de-07',
    country: 'DE',
    violation: { category: 'illegal_drugs', text: 'MDMA für das Wochenende, Versand diskret.', language: 'de' },
  },
  narrowedDropped: {
    id: 'demo-legal-de-08',
    country: 'DE',
    violation: { category: 'illegal_drugs', text: 'Wer braucht noch was für Samstag? Koks ist da.', language: 'de' },
  },
  clean: { id: 'demo-legal-de-09', country: 'DE' },
  trThreat: {
    id: 'demo-legal-tr-01',
    country: 'TR',
    violation: {
      category: 'violent_threat',
      text: 'Bu gece o binayı havaya uçuracağız, herkes hazır olsun.',
      language: 'tr',
    },
  },
  trCritic: { id: 'demo-legal-tr-02', country: 'TR' },
} as const satisfies Record<string, DemoAccount>;

type AccountKey = keyof typeof ACCOUNTS;

const PHONES: Record<DemoAccount['country'], { prefix: string; digits: number }> = {
  DE: { prefix: '+49151', digits: 8 },
  TR: { prefix: '+90532', digits: 7 },
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Reviewer = 'legal' | 'legal2' | 'legalSenior';
/** What happens to an order after it is filed, `ago` before the seed's now; the authority withdraws. */
type Step = { ago: number } & ({ review: ReviewInput; by: Reviewer } | { withdraw: true });
/** How an order names a demo account other than by id. */
interface TargetRef {
  phone(key: AccountKey): string;
  username(key: AccountKey): string;
}

interface Scenario {
  authority: DemoAuthorityKey;
  /** Unique per authority: how a second seed run recognises the order. */
  caseReference: string;
  receivedAgo: number;
  /** The order as received at `at`; the authority's name, legal basis and court order default per authority. */
  order: (
    at: number,
    ref: TargetRef,
  ) => Pick<LegalOrderInput, 'type' | 'offence' | 'targets' | 'data' | 'period'> & Partial<LegalOrderInput>;
  steps?: (at: number) => Step[];
  expect: LegalStatus;
}

const iso = (t: number) => new Date(t).toISOString();
const period = (at: number, days: number) => ({ from: iso(at - days * DAY), to: iso(at) });
const drugs = {
  category: 'illegal_drugs',
  description: 'Commercial trafficking in narcotics through the platform',
  provisions: '§ 29a BtMG',
};
const both = ['ip_addresses', 'phone_number'];

/**
 * The orders, one per state a legal team meets: in review (one from each authority,
 * the Turkish one flagged for the extra review and approved once), disclosed after two
 * approvals, an emergency disclosed by one senior member with the second approval owed,
 * rejected by the checks (no confirmed violation; a refused offence) and by a reviewer,
 * withdrawn, preserved, and narrowed and back in review.
 */
const SCENARIOS: Scenario[] = [
  {
    authority: 'de',
    caseReference: 'BKA-2026-0412',
    receivedAgo: 3 * DAY,
    order: (at) => ({
      type: 'production',
      offence: drugs,
      targets: [{ accountId: ACCOUNTS.dealer.id }],
      data: both,
      period: period(at, 30),
      nonDisclosureUntil: iso(at + 90 * DAY),
    }),
    steps: () => [
      {
        ago: 2 * DAY,
        by: 'legal',
        review: { decision: 'approve', note: 'Court order matches the account and period.' },
      },
      { ago: DAY, by: 'legal2', review: { decision: 'approve' } },
    ],
    expect: 'disclosed',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0457-EIL',
    receivedAgo: 3 * HOUR,
    order: (at) => ({
      type: 'emergency',
      legalBasis: '§ 100g Abs. 1, § 100e Abs. 1 Satz 2 StPO (Eilanordnung bei Gefahr im Verzug)',
      courtOrder: {
        reference: 'StA Frankfurt 3 Js 2211/26 (Eilanordnung)',
        issuedBy: 'Staatsanwaltschaft Frankfurt am Main',
        issuedAt: iso(at - HOUR),
      },
      offence: {
        category: 'violent_threat',
        description: 'Announced attack on a named school tomorrow morning',
        provisions: '§ 126 StGB',
      },
      targets: [{ accountId: ACCOUNTS.threat.id }],
      data: both,
      period: period(at, 7),
      emergencyJustification:
        'The account announced an attack on a named school for 08:00 tomorrow; the author must be found before then.',
    }),
    steps: () => [
      {
        ago: 2 * HOUR,
        by: 'legalSenior',
        review: { decision: 'approve', note: 'Imminent risk to life: approved alone; second approval owed.' },
      },
    ],
    expect: 'disclosed',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0431',
    receivedAgo: DAY,
    order: (at, ref) => ({
      type: 'production',
      offence: drugs,
      targets: [{ phone: ref.phone('pending') }],
      data: both,
      period: period(at, 60),
    }),
    expect: 'in_review',
  },
  {
    authority: 'tr',
    caseReference: 'IST-2026-1187',
    receivedAgo: 2 * DAY,
    order: (at) => ({
      type: 'production',
      offence: {
        category: 'terrorism',
        description: 'Threat to bomb a building in Istanbul',
        provisions: 'TMK Article 7, TCK Article 314',
      },
      targets: [{ accountId: ACCOUNTS.trThreat.id }],
      data: both,
      period: period(at, 30),
    }),
    steps: () => [
      {
        ago: DAY,
        by: 'legal',
        review: { decision: 'approve', note: 'Checks pass; the extra review needs a senior member to approve too.' },
      },
    ],
    expect: 'in_review',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0365',
    receivedAgo: 7 * DAY,
    order: (at) => ({
      type: 'production',
      offence: drugs,
      targets: [{ accountId: ACCOUNTS.clean.id }],
      data: both,
      period: period(at, 30),
    }),
    expect: 'rejected',
  },
  {
    authority: 'tr',
    caseReference: 'IST-2026-1203',
    receivedAgo: 5 * DAY,
    order: (at) => ({
      type: 'production',
      offence: {
        category: 'political_speech',
        description: 'Messages calling for a protest march against the government',
        provisions: 'TCK Article 217/A',
      },
      targets: [{ accountId: ACCOUNTS.trCritic.id }],
      data: both,
      period: period(at, 90),
    }),
    expect: 'rejected',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0398',
    receivedAgo: 4 * DAY,
    order: (at, ref) => ({
      type: 'production',
      offence: {
        category: 'scam_fraud',
        description: 'Advance-fee crypto fraud',
        provisions: '§ 263 StGB',
      },
      targets: [{ username: ref.username('fraud') }],
      data: ['ip_addresses'],
      period: period(at, 30),
    }),
    steps: () => [
      {
        ago: 3 * DAY,
        by: 'legal2',
        review: {
          decision: 'reject',
          reasons: ['The court order cites another case file than the order; please file the order that covers it.'],
          note: 'Called the BKA desk: they will refile with the right decision.',
        },
      },
    ],
    expect: 'rejected',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0377',
    receivedAgo: 5 * DAY,
    order: (at) => ({
      type: 'production',
      offence: { category: 'weapons', description: 'Sale of unregistered firearms', provisions: '§ 52 WaffG' },
      targets: [{ accountId: ACCOUNTS.gunseller.id }],
      data: both,
      period: period(at, 30),
    }),
    steps: () => [{ ago: 4 * DAY, withdraw: true }],
    expect: 'withdrawn',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0420-S',
    receivedAgo: 6 * DAY,
    order: (at) => ({
      type: 'preservation',
      legalBasis: '§ 100g StPO, Art. 16 Budapest Convention (expedited preservation)',
      offence: drugs,
      targets: [{ accountId: ACCOUNTS.preserved.id }],
      data: both,
      period: period(at, 90),
    }),
    expect: 'preserved',
  },
  {
    authority: 'de',
    caseReference: 'BKA-2026-0440',
    receivedAgo: 2 * DAY,
    order: (at) => ({
      type: 'production',
      offence: drugs,
      targets: [{ accountId: ACCOUNTS.narrowedKept.id }, { accountId: ACCOUNTS.narrowedDropped.id }],
      data: both,
      period: period(at, 60),
    }),
    steps: (at) => [
      {
        ago: DAY,
        by: 'legal',
        review: {
          decision: 'narrow',
          reasons: ['The court order names only the first suspect, and only the last 30 days.'],
          narrowTo: { targets: [0], period: period(at, 30) },
        },
      },
    ],
    expect: 'in_review',
  },
];

/**
 * The lawful-request part of the demo: the accounts the orders name (phone numbers,
 * sessions over the last 60 days, and for most a message a moderator removed), then the
 * orders of SCENARIOS filed, reviewed and withdrawn through the services the API uses,
 * so checks, reviews, audit entries and packages are real. Runs again without
 * duplicating: each step is skipped when what it makes is already there.
 */
export async function seedLegal(ctx: Context, actors: LegalSeedActors, now: number): Promise<void> {
  const db = ctx.store.db;
  const system = SYSTEM_ACTOR('demo');
  // Its own sequence, so the phone numbers are the same whatever the rest of the seed drew.
  const rand = mulberry32(20260412);
  const phones = new Map<AccountKey, string>();
  for (const key of Object.keys(ACCOUNTS) as AccountKey[]) {
    const shape = PHONES[ACCOUNTS[key].country];
    for (let attempt = 0; attempt < 50 && !phones.has(key); attempt++) {
      const candidate = shape.prefix + Array.from({ length: shape.digits }, () => Math.floor(rand() * 10)).join('');
      const phone = normalisePhone(candidate);
      if (phone) phones.set(key, phone.e164);
    }
  }
  const ref: TargetRef = {
    phone: (key) => phones.get(key)!,
    username: (key) =>
      `lr_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_${ACCOUNTS[key].country.toLowerCase()}`,
  };

  const accounts = Object.entries(ACCOUNTS) as Array<[AccountKey, DemoAccount]>;
  const last = accounts[accounts.length - 1]![1].id;
  if (!(await db.selectFrom('sessions').select('id').where('account_id', '=', last).limit(1).executeTakeFirst())) {
    const inputs: AccountInput[] = accounts.map(([key, a], i) => ({
      id: a.id,
      username: ref.username(key),
      country: a.country,
      phone: phones.get(key)!,
      createdAt: iso(now - (200 + 37 * i) * DAY),
    }));
    await ingestAccounts(db, ctx.cipher, system, inputs, now);
    // Documentation ranges (RFC 5737, RFC 3849): these addresses end up in packages.
    const sessions: SessionInput[] = accounts.flatMap(([, a], i) =>
      Array.from({ length: 12 }, (_, j) => ({
        accountId: a.id,
        ip:
          j % 4 === 3
            ? `2001:db8:${(0x100 + i).toString(16)}::${(j + 1).toString(16)}`
            : `${j % 2 === 0 ? '198.51.100' : '203.0.113'}.${1 + ((i * 12 + j) % 254)}`,
        port: 1024 + Math.floor(rand() * 60000),
        at: iso(now - Math.round((j + 0.5) * 5 * DAY) - Math.floor(rand() * HOUR)),
      })),
    );
    await ingestSessions(db, ctx.cipher, system, sessions, {
      retentionDays: ctx.config.sessionRetentionDays,
      now,
    });
  }

  // A reported message removed by a moderator makes a confirmed violation.
  for (const [i, [, a]] of accounts.entries()) {
    if (!a.violation) continue;
    const confirmed = await db
      .selectFrom('violations')
      .select('id')
      .where('account_id', '=', a.id)
      .where('status', '=', 'confirmed')
      .executeTakeFirst();
    if (confirmed) continue;
    const contentId = `demo-legal-msg-${String(i + 1).padStart(2, '0')}`;
    await ingestContent(
      db,
      system,
      [
        {
          id: contentId,
          accountId: a.id,
          chatId: `demo-legal-chat-${i + 1}`,
          kind: 'text',
          text: a.violation.text,
          language: a.violation.language,
          public: true,
          createdAt: iso(now - (15 + i) * DAY),
        },
      ],
      now - (15 + i) * DAY,
    );
    const open = await db
      .selectFrom('cases')
      .select('id')
      .where('subject_id', '=', contentId)
      .where('status', '=', 'open')
      .executeTakeFirst();
    const caseId =
      open?.id ??
      (
        await fileReport(
          ctx,
          actors.trustedFlagger,
          {
            subject: { contentId },
            category: a.violation.category,
            explanation: 'Reported by a trusted flagger (demo).',
          },
          '192.0.2.10',
          now - (12 + i) * DAY,
        )
      ).caseId;
    const category = a.violation.category;
    await decideCase(
      ctx,
      actors.moderator,
      caseId,
      {
        actions: [{ type: 'remove_content' }],
        category,
        ground: 'illegal',
        explanation: `Demo decision: the message is ${category.replaceAll('_', ' ')} as defined in the policy.`,
      },
      { now: now - (10 + i) * DAY },
    );
  }

  const reviewers: Record<Reviewer, Actor> = {
    legal: actors.legal,
    legal2: actors.legal2,
    legalSenior: actors.legalSenior,
  };
  for (const s of SCENARIOS) {
    const authority = s.authority === 'de' ? actors.authority : actors.authority2;
    const filed = await db
      .selectFrom('legal_requests')
      .select('id')
      .where('authority_id', '=', authority.authorityId ?? '')
      .where('case_reference', '=', s.caseReference)
      .executeTakeFirst();
    if (filed) continue;
    const at = now - s.receivedAgo;
    const id = await submitLegalRequest(ctx, authority, buildOrder(s, at, ref), at);
    for (const step of s.steps?.(at) ?? []) {
      const row = await db.selectFrom('legal_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow();
      // Under another disclosure policy an order may end early: leave it as the policy made it.
      if (row.status !== 'in_review') break;
      if ('withdraw' in step) await withdrawLegalRequest(ctx, authority, id, now - step.ago);
      else await reviewLegalRequest(ctx, reviewers[step.by], id, step.review, now - step.ago);
    }
    const row = await db.selectFrom('legal_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    if (row.status !== s.expect) {
      ctx.logger.warn(
        { caseReference: s.caseReference, status: row.status, expected: s.expect, policy: ctx.disclosure.name },
        'demo legal order ended in another state than planned',
      );
    }
  }
}

/** The full order of a scenario at time `at`, with the authority's usual fields and a court-order PDF. */
function buildOrder(s: Scenario, at: number, ref: TargetRef): LegalOrderInput {
  const [, year, number] = s.caseReference.split('-');
  const base =
    s.authority === 'de'
      ? {
          issuingAuthority: { name: 'Bundeskriminalamt', country: 'DE' },
          legalBasis: '§ 100g StPO (traffic data), § 100j StPO (subscriber data)',
          courtOrder: {
            reference: `AG Wiesbaden 2 Gs ${number}/${year?.slice(2)}`,
            issuedBy: 'Amtsgericht Wiesbaden',
            issuedAt: iso(at - 2 * DAY),
          },
        }
      : {
          issuingAuthority: { name: "Istanbul Chief Public Prosecutor's Office", country: 'TR' },
          legalBasis: 'CMK Article 135 (communications data)',
          courtOrder: {
            reference: `${year}/${number} D.Is.`,
            issuedBy: 'Istanbul 3rd Criminal Judgeship of Peace',
            issuedAt: iso(at - 2 * DAY),
          },
        };
  const order = { ...base, ...s.order(at, ref), caseReference: s.caseReference };
  const court = order.courtOrder;
  return {
    ...order,
    courtOrder: {
      ...court,
      documentBase64: demoPdf([
        court.issuedBy,
        `Order ${court.reference}, issued ${court.issuedAt.slice(0, 10)}`,
        `Case ${s.caseReference}: ${order.offence.description}`,
        'DEMO DOCUMENT - not a real court order.',
      ]).toString('base64'),
    },
  };
}

/** A one-page PDF of a few lines of Helvetica, so the court-order document can be opened. */
function demoPdf(lines: string[]): Buffer {
  const pdfText = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`);
  const text = `BT /F1 12 Tf 16 TL 72 760 Td ${lines.map((l) => `(${pdfText(l)}) Tj T*`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) pdf += `${String(o).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}
