import { rng } from './stats.js';

/**
 * Pseudo-words from syllables: plausible keyword lists of any size that collide
 * with no word of the benchmark messages. A fifth are two-word phrases.
 */
export function pseudoKeywords(count: number, seed: number): string[] {
  const rnd = rng(seed);
  const syllables = 'ka ze ro mi tu lo vex qua dri mon sal fen tor ix yl bra zo nur pik sha'.split(' ');
  const out = new Set<string>();
  while (out.size < count) {
    const n = 2 + Math.floor(rnd() * 3);
    let w = '';
    for (let k = 0; k < n; k++) w += syllables[Math.floor(rnd() * syllables.length)];
    out.add(rnd() < 0.2 ? `${w} ${syllables[Math.floor(rnd() * syllables.length)]}${w.slice(0, 3)}` : w);
  }
  return [...out];
}
