import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { CORPUS_DIR } from '../src/scanning/classifier/corpus.js';
import { decisionExamples } from '../src/scanning/classifier/learning.js';
import { loadTextModel } from '../src/scanning/classifier/text-model.js';
import { runCli } from './helpers/cli.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { decideOk, reportAs, seedContent } from './helpers/notice-action.js';

/**
 * A corpus of every `step`-th line of the shipped one (whole files of the
 * generated and hand-written examples, same keyword lists): small enough to
 * train in a second or two, real enough to measure.
 */
function subsampleCorpus(step: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-corpus-'));
  fs.cpSync(path.join(CORPUS_DIR, 'keywords'), path.join(dir, 'keywords'), { recursive: true });
  const lines: string[] = [];
  for (const sub of ['generated', 'handwritten']) {
    for (const file of fs.readdirSync(path.join(CORPUS_DIR, sub)).sort()) {
      const all = fs
        .readFileSync(path.join(CORPUS_DIR, sub, file), 'utf8')
        .split('\n')
        .filter(Boolean);
      lines.push(...all.filter((_, i) => i % step === 0));
    }
  }
  fs.mkdirSync(path.join(dir, 'handwritten'));
  fs.writeFileSync(path.join(dir, 'handwritten', 'sample.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}

// A drug the corpus never names, sold in the shapes moderators see.
const NOVEL_SALES = [
  'zorblax tabs 20 each, dm me',
  'fresh zorblax in stock, delivery tonight',
  'zorblax 10 for 150, discreet drop',
  'got zorblax, who wants some, pm',
  'zorblax pressed pills, best price in town',
  'selling zorblax by the gram, hit me up',
  'zorblax shipment landed, menu in bio',
  'need zorblax? same day delivery',
  'zorblax capsules, bulk discount',
  'zorblax available now, cash or crypto',
  'top quality zorblax, stealth shipping',
  'zorblax plug here, message for prices',
];
// The same word in harmless lines: moderators dismissed the reports.
const NOVEL_BENIGN = [
  'zorblax is the name of my cat',
  'we watched zorblax the movie last night',
  'the zorblax band plays on friday',
  'my nephew named his robot zorblax',
];

async function decideAll(h: Harness): Promise<void> {
  const { account } = await seedContent(h);
  let n = 0;
  for (const text of [...NOVEL_SALES, ...NOVEL_BENIGN]) {
    const { content } = await seedContent(h, { accountId: account, text, id: `novel-${n++}-${Date.now()}` });
    const report = await reportAs(h, { contentId: content.id }, 'illegal_drugs');
    if (NOVEL_SALES.includes(text)) {
      await decideOk(h, report.caseId, {
        actions: [{ type: 'remove_content' }],
        category: 'illegal_drugs',
        ground: 'illegal',
        explanation: 'Sale of a controlled substance.',
      });
    } else {
      await decideOk(h, report.caseId, {
        actions: [{ type: 'dismiss' }],
        category: 'illegal_drugs',
        ground: 'terms',
        explanation: 'Not a drug.',
      });
    }
  }
}

async function auditOf(h: Harness, action: string) {
  return h.ctx.store.db.selectFrom('audit_log').selectAll().where('action', '=', action).execute();
}

describeEachStore('learning from moderators', (get) => {
  it("turns decisions into labelled examples: actions are the category, dismissals are not, machine-only ones don't count", async () => {
    const h = get();
    await decideAll(h);
    const examples = await decisionExamples(h.ctx.store.db);
    const byText = new Map(examples.map((e) => [e.text, e]));
    for (const text of NOVEL_SALES) assert.deepEqual(byText.get(text)?.labels, ['illegal_drugs'], text);
    for (const text of NOVEL_BENIGN) {
      assert.deepEqual(byText.get(text)?.labels, [], text);
      assert.deepEqual(byText.get(text)?.known, ['illegal_drugs'], 'a dismissal says nothing of other categories');
    }
    for (const e of examples) assert.match(e.source, /^decision:/);
  });

  it('`custos model train --with-decisions` promotes a candidate that is not worse, and audits the comparison', async () => {
    const h = get();
    await decideAll(h);
    // The model in force learned from a quarter of the examples the candidate will have (and no
    // decisions), so the comparison is not a coin toss between two nearly equal models.
    const corpus = subsampleCorpus(6);
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-model-'));
    const first = await runCli(h, [
      'model',
      'train',
      '--corpus',
      subsampleCorpus(24),
      '--out',
      modelDir,
      '--no-spamassassin',
    ]);
    assert.equal(first.code, 0, first.stderr);
    const before = loadTextModel(path.join(modelDir, 'text-linear-v1.bin'));

    const run = await runCli(h, [
      'model',
      'train',
      '--with-decisions',
      '--corpus',
      corpus,
      '--out',
      modelDir,
      '--no-spamassassin',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /decisions as examples: \d+ for training, \d+ held out/);
    assert.match(run.stdout, /macro F1/);
    assert.match(run.stdout, /PROMOTED/, run.stdout);
    const after = loadTextModel(path.join(modelDir, 'text-linear-v1.bin'));
    assert.notEqual(after.version, before.version);
    // It learned the new word: a sale it never saw scores higher than before.
    const unseen = 'zorblax for sale, message me for the price list';
    assert.ok(
      after.score(unseen).illegal_drugs! > before.score(unseen).illegal_drugs!,
      `${after.score(unseen).illegal_drugs} vs ${before.score(unseen).illegal_drugs}`,
    );
    const [entry] = await auditOf(h, 'model.promoted');
    assert.ok(entry, 'the promotion is audited');
    const details = JSON.parse(entry.details);
    assert.equal(details.candidate.version, after.version);
    assert.equal(details.current.version, before.version);
    assert.ok(details.candidate.macroF1 >= details.current.macroF1);
    assert.equal(details.decisionExamples.train + details.decisionExamples.test, 16);
  });

  it('keeps the model in force when the candidate is worse, and audits that too', async () => {
    const h = get();
    await decideAll(h);
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-model-'));
    // The model in force learned from six times more examples than the candidate will.
    const rich = await runCli(h, [
      'model',
      'train',
      '--corpus',
      subsampleCorpus(4),
      '--out',
      modelDir,
      '--no-spamassassin',
    ]);
    assert.equal(rich.code, 0, rich.stderr);
    const weights = path.join(modelDir, 'text-linear-v1.bin');
    const bytes = fs.readFileSync(weights);

    const run = await runCli(h, [
      'model',
      'train',
      '--with-decisions',
      '--corpus',
      subsampleCorpus(24),
      '--out',
      modelDir,
      '--no-spamassassin',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /KEPT the current model/, run.stdout);
    assert.deepEqual(fs.readFileSync(weights), bytes, 'the model file is untouched');
    const [entry] = await auditOf(h, 'model.rejected');
    assert.ok(entry, 'the refusal is audited');
    const details = JSON.parse(entry.details);
    assert.ok(details.candidate.macroF1 < details.current.macroF1);
  });
});
