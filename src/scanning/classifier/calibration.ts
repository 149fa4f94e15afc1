/**
 * Platt scaling and threshold choice, per category.
 *
 * Platt's method fits p = sigmoid(a·z + b) to held-out raw scores z. This follows the
 * Newton method with backtracking of Lin, Lin and Weng, "A note on Platt's probabilistic
 * outputs for support vector machines" (Machine Learning 68, 2007), including Platt's
 * smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2), which keep the fit finite when the
 * held-out scores are separable. Their A, B are our −a, −b.
 */

export interface PlattParameters {
  readonly a: number;
  readonly b: number;
}

/** Identity-like calibration used when a split has no positives or no negatives. */
export const IDENTITY_PLATT: PlattParameters = Object.freeze({ a: 1, b: 0 });

/** Smallest slope kept: a calibration must stay increasing in the raw score. */
const MIN_SLOPE = 1e-3;

/** Fits Platt scaling on raw scores `z` with 0/1 `y`. Deterministic. */
export function fitPlatt(z: ArrayLike<number>, y: ArrayLike<number>): PlattParameters {
  const n = z.length;
  let prior1 = 0;
  for (let i = 0; i < n; i++) if (y[i] === 1) prior1++;
  const prior0 = n - prior1;
  if (prior1 === 0 || prior0 === 0) return IDENTITY_PLATT;
  const hiTarget = (prior1 + 1) / (prior1 + 2);
  const loTarget = 1 / (prior0 + 2);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = y[i] === 1 ? hiTarget : loTarget;
  const maxIter = 100;
  const minStep = 1e-10;
  const sigma = 1e-12;
  const eps = 1e-5;
  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  const objective = (a: number, b: number) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const fApB = z[i]! * a + b;
      f += fApB >= 0 ? t[i]! * fApB + Math.log1p(Math.exp(-fApB)) : (t[i]! - 1) * fApB + Math.log1p(Math.exp(fApB));
    }
    return f;
  };
  let fval = objective(A, B);
  for (let iter = 0; iter < maxIter; iter++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const fApB = z[i]! * A + B;
      let p: number;
      let q: number;
      if (fApB >= 0) {
        p = Math.exp(-fApB) / (1 + Math.exp(-fApB));
        q = 1 / (1 + Math.exp(-fApB));
      } else {
        p = 1 / (1 + Math.exp(fApB));
        q = Math.exp(fApB) / (1 + Math.exp(fApB));
      }
      const d2 = p * q;
      h11 += z[i]! * z[i]! * d2;
      h22 += d2;
      h21 += z[i]! * d2;
      const d1 = t[i]! - p;
      g1 += z[i]! * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const newA = A + step * dA;
      const newB = B + step * dB;
      const newF = objective(newA, newB);
      if (newF < fval + 1e-4 * step * gd) {
        A = newA;
        B = newB;
        fval = newF;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break;
  }
  const a = -A;
  const b = -B;
  if (!(a >= MIN_SLOPE) || !Number.isFinite(b)) return { a: Math.max(MIN_SLOPE, Number.isFinite(a) ? a : 1), b: 0 };
  return { a, b };
}

/**
 * The probability threshold that maximises F1 on held-out scores: the midpoint between
 * the lowest positive-predicted score and the next lower score of the best cut, clamped
 * to [0.05, 0.95] so that one odd example cannot make a category fire on everything.
 * Ties prefer the higher threshold (fewer automated flags).
 */
export function chooseThreshold(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = p.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => p[j]! - p[i]! || i - j);
  let positives = 0;
  for (let i = 0; i < n; i++) if (y[i] === 1) positives++;
  if (positives === 0) return 0.5;
  let tp = 0;
  let bestF1 = -1;
  let bestCut = 0;
  for (let k = 0; k < n; k++) {
    if (y[order[k]!] === 1) tp++;
    // Only cut between distinct scores.
    if (k + 1 < n && p[order[k + 1]!] === p[order[k]!]) continue;
    const predicted = k + 1;
    const f1 = (2 * tp) / (predicted + positives);
    if (f1 > bestF1 + 1e-12) {
      bestF1 = f1;
      bestCut = k;
    }
  }
  const low = p[order[bestCut]!]!;
  const next = bestCut + 1 < n ? p[order[bestCut + 1]!]! : 0;
  return Math.min(0.95, Math.max(0.05, (low + next) / 2));
}
