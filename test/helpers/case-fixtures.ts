import crypto from 'node:crypto';
import sharp from 'sharp';
import { fileAppeal } from '../../src/appeals/service.js';
import { ingestContent } from '../../src/content/service.js';
import { decideCase } from '../../src/decisions/service.js';
import { fileReport } from '../../src/reports/service.js';
import type { Harness } from './harness.js';
import { TEST_ACTOR } from './harness.js';

/** A moderator other than the harness's token holder, for four-eyes rules. */
export const OTHER_MODERATOR = { id: 'tok_other_moderator', role: 'moderator' as const };

/** Stores a text message by `accountId` and returns its id. */
export async function buildContent(h: Harness, accountId: string, overrides: { text?: string; public?: boolean } = {}) {
  const id = `msg-${crypto.randomBytes(6).toString('hex')}`;
  await ingestContent(h.ctx.store.db, TEST_ACTOR, [
    {
      id,
      accountId,
      kind: 'text',
      text: overrides.text ?? 'a message',
      public: overrides.public ?? false,
      createdAt: new Date(Date.now() - 60_000).toISOString(),
    },
  ]);
  return id;
}

/**
 * Opens a case by reporting a fresh message of `accountId`; returns the report
 * receipt. A `csam` report puts the case in the restricted queue.
 */
export async function openCase(h: Harness, accountId: string, category: 'spam' | 'csam' = 'spam') {
  const contentId = await buildContent(h, accountId);
  return reportContent(h, contentId, category);
}

async function reportContent(h: Harness, contentId: string, category: 'spam' | 'csam') {
  const receipt = await fileReport(
    h.ctx,
    { id: 'public', role: 'public' },
    { subject: { contentId }, category },
    `192.0.2.${1 + Math.floor(Math.random() * 250)}`,
  );
  return { ...receipt, contentId };
}

/** A small generated picture (a gradient), PNG. */
export async function smallPng(): Promise<Buffer> {
  const side = 64;
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    pixels[i * 3] = (i % side) * 4;
    pixels[i * 3 + 1] = Math.floor(i / side) * 4;
    pixels[i * 3 + 2] = 128;
  }
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

/** Opens a case about a fresh image of `accountId`. */
export async function openImageCase(h: Harness, accountId: string, category: 'spam' | 'csam' = 'spam') {
  const id = `img-${crypto.randomBytes(6).toString('hex')}`;
  await ingestContent(h.ctx.store.db, TEST_ACTOR, [
    {
      id,
      accountId,
      kind: 'image',
      imageBase64: (await smallPng()).toString('base64'),
      createdAt: new Date(Date.now() - 60_000).toISOString(),
    },
  ]);
  return reportContent(h, id, category);
}

/** A case decided (content removed) by OTHER_MODERATOR; returns the decision. */
export async function decidedCase(h: Harness, accountId: string) {
  const { caseId } = await openCase(h, accountId);
  return decideCase(h.ctx, OTHER_MODERATOR, caseId, {
    actions: [{ type: 'remove_content' }],
    category: 'spam',
    ground: 'terms',
    explanation: 'Repeated unsolicited advertising.',
  });
}

/** An open appeal on a decision by OTHER_MODERATOR. */
export async function openAppeal(h: Harness, accountId: string) {
  const decision = await decidedCase(h, accountId);
  return fileAppeal(h.ctx, { id: 'platform', role: 'platform' }, decision.id, 'Please look again.');
}
