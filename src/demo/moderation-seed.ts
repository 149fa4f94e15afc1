import type { Context } from '../context.js';
import type { Actor } from '../audit/actor.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import { type ContentInput, ingestContent } from '../content/service.js';
import { fileReport } from '../reports/service.js';
import { claimCase } from '../cases/service.js';
import { decideCase } from '../decisions/service.js';
import { fileAppeal } from '../appeals/service.js';
import type { CategoryCode } from '../policy/policy.js';

/** Sample messages: most harmless, some that a moderator would act on. */
const BENIGN = [
  { text: 'Does anyone know when the next train to the airport leaves?', language: 'en' },
  { text: 'Happy birthday! Hope you have a wonderful day 🎉', language: 'en' },
  { text: 'Wer kommt morgen mit zum Fußballspiel?', language: 'de' },
  { text: 'Le marché de Noël ouvre samedi sur la place centrale.', language: 'fr' },
  { text: '¿Alguien tiene la receta de la tortilla de la abuela?', language: 'es' },
  { text: 'Meeting moved to 3pm, same room.', language: 'en' },
  { text: 'Photos from the hiking trip are in the shared album.', language: 'en' },
  { text: 'Qualcuno ha visto il mio ombrello blu?', language: 'it' },
];

const HARMFUL: Array<{ text: string; language: string; category: CategoryCode }> = [
  { text: 'Cheap cocaine and MDMA, delivery in 1 hour, DM for prices', language: 'en', category: 'illegal_drugs' },
  { text: 'Send 0.1 BTC to this wallet and get 1 BTC back guaranteed!!!', language: 'en', category: 'scam_fraud' },
  { text: 'I know where you live and I will hurt your family tonight', language: 'en', category: 'violent_threat' },
  { text: 'Unregistered pistols for sale, no papers needed', language: 'en', category: 'weapons' },
  {
    text: 'Join our channel for the full pirated movie collection 2026',
    language: 'en',
    category: 'intellectual_property',
  },
  { text: 'FREE FOLLOWERS click click click bit.ly/xxxx', language: 'en', category: 'spam' },
  { text: 'Hier gibt es Gras und Pillen, schreib mir privat', language: 'de', category: 'illegal_drugs' },
];

/**
 * The moderation part of the demo: content, reports from the public, the
 * platform and a trusted flagger, open and claimed cases, decided cases of
 * every kind, an overturnable decision with an open appeal, and a repeat
 * offender with a proposed suspension.
 */
export async function seedModeration(
  ctx: Context,
  actors: { moderator: Actor; platform: Actor; trustedFlagger: Actor },
  accountIds: string[],
  rand: () => number,
  now: number,
): Promise<void> {
  const db = ctx.store.db;
  if (await db.selectFrom('content').select('id').where('id', '=', 'demo-msg-0001').executeTakeFirst()) return;
  const system = SYSTEM_ACTOR('demo');
  const items: ContentInput[] = [];
  const harmfulIds: Array<{ id: string; category: CategoryCode }> = [];
  for (let i = 1; i <= 160; i++) {
    const harmful = i % 5 === 0 ? HARMFUL[(i / 5) % HARMFUL.length] : undefined;
    const sample = harmful ?? BENIGN[i % BENIGN.length]!;
    const id = `demo-msg-${String(i).padStart(4, '0')}`;
    // A handful of repeat offenders write most of the harmful messages.
    const author = harmful && i % 3 !== 0 ? accountIds[i % 4]! : accountIds[Math.floor(rand() * accountIds.length)]!;
    items.push({
      id,
      accountId: author,
      chatId: `demo-chat-${1 + (i % 12)}`,
      kind: 'text',
      text: sample.text,
      language: sample.language,
      public: i % 2 === 0,
      createdAt: new Date(now - Math.floor(rand() * 20 * 86_400_000) - 3_600_000).toISOString(),
    });
    if (harmful) harmfulIds.push({ id, category: harmful.category });
  }
  await ingestContent(db, system, items, now);

  const cases: Array<{ caseId: string; category: CategoryCode }> = [];
  for (const [n, h] of harmfulIds.entries()) {
    const reporter =
      n % 4 === 0 ? actors.trustedFlagger : n % 4 === 1 ? actors.platform : { id: 'public', role: 'public' as const };
    const receipt = await fileReport(
      ctx,
      reporter,
      {
        subject: { contentId: h.id },
        category: h.category,
        explanation: 'Reported from the demo seed.',
        ...(reporter.role === 'platform' ? { reporter: { accountId: accountIds[100 + n]! } } : {}),
      },
      `198.51.100.${10 + n}`,
      now - (harmfulIds.length - n) * 600_000,
    );
    cases.push({ caseId: receipt.caseId, category: h.category });
  }
  // A spam wave on one benign message: a mob of public reports that will be dismissed.
  for (let k = 0; k < 6; k++) {
    await fileReport(
      ctx,
      { id: 'public', role: 'public' },
      { subject: { contentId: 'demo-msg-0002' }, category: 'spam' },
      `203.0.113.${k + 1}`,
      now - 3_000_000,
    );
  }

  const decide = async (caseId: string, category: CategoryCode, actions: Parameters<typeof decideCase>[3]['actions']) =>
    decideCase(
      ctx,
      actors.moderator,
      caseId,
      {
        actions,
        category,
        ground: category === 'spam' || category === 'intellectual_property' ? 'terms' : 'illegal',
        explanation: `Demo decision: the message is ${category.replaceAll('_', ' ')} as defined in the policy.`,
      },
      { now: now - 1_800_000 },
    );
  // Decide two thirds; leave the rest open, one of them claimed.
  const decided = [];
  for (const [i, c] of cases.entries()) {
    if (i % 3 === 2) continue;
    const actions =
      c.category === 'violent_threat'
        ? [
            { type: 'remove_content' as const },
            { type: 'suspend_account' as const, until: new Date(now + 14 * 86_400_000).toISOString() },
          ]
        : [{ type: 'remove_content' as const }];
    decided.push(await decide(c.caseId, c.category, actions));
  }
  const spamCase = await db
    .selectFrom('cases')
    .select('id')
    .where('subject_id', '=', 'demo-msg-0002')
    .where('status', '=', 'open')
    .executeTakeFirst();
  if (spamCase) await decide(spamCase.id, 'spam', [{ type: 'dismiss' }]);
  const stillOpen = cases.filter((_, i) => i % 3 === 2);
  if (stillOpen[0]) await claimCase(ctx, actors.moderator, stillOpen[0].caseId, now);
  // The account appeals the first removal; moderator2 can review it.
  if (decided[0])
    await fileAppeal(
      ctx,
      actors.platform,
      decided[0].id,
      'The message was a quote from a news article, not an offer.',
      now,
    );
}
