/**
 * Throughput of the built-in text classifier alone, one core, in-process:
 * `node --import tsx bench/text-classifier.ts`. Per CPU-second is the figure to quote on
 * a shared machine (wall time also counts the time other processes hold the core). Per CPU-second is the figure to quote on
 * a shared machine (wall time counts the time other processes hold the core). Prints messages per second for short
 * chat lines (the held-out corpus texts under 120 characters) and for a mix up to 4 KB,
 * through `scoreInto` (no allocation) and `score` + `decide` (the scanner's path).
 */
import { loadCorpus } from '../src/scanning/classifier/corpus.js';
import { loadTextModel } from '../src/scanning/classifier/text-model.js';

const model = loadTextModel();
const corpus = loadCorpus({ spamAssassin: true });
const all = corpus.examples.map((e) => e.text);
const short = all.filter((t) => t.length <= 120);
const filler = all.filter((t) => t.length > 120).join('\n');
// A realistic mix: mostly chat lines, some posts up to 4 KB.
const mixed = short.map((t, i) =>
  i % 10 === 0 ? (t + '\n' + filler.slice(i % 5000, (i % 5000) + 4000)).slice(0, 4096) : t,
);

function measure(name: string, texts: string[], run: (t: string) => void): void {
  for (let i = 0; i < 2000; i++) run(texts[i % texts.length]!); // warm-up
  const rounds = Math.max(1, Math.ceil(100_000 / texts.length));
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const t of texts) {
      run(t);
      n++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const chars = texts.reduce((s, t) => s + t.length, 0) / texts.length;
  const rate = (x: number) => Math.round(n / x).toLocaleString('en');
  console.log(
    `${name.padEnd(30)} ${rate(cpuSeconds).padStart(8)} msg/s per CPU-second, ${rate(seconds).padStart(8)} msg/s wall ` +
      `(${n} msgs, mean ${chars.toFixed(0)} chars)`,
  );
}

const out = new Float64Array(model.categories.length);
console.log(`model ${model.version}`);
measure('short lines, scoreInto', short, (t) => model.scoreInto(t, out));
measure('short lines, score + decide', short, (t) => model.decide(model.score(t)));
measure('mix up to 4 KB, scoreInto', mixed, (t) => model.scoreInto(t, out));
