/**
 * The eight orientations of a picture (the dihedral group of the square), named by
 * their EXIF `Orientation` codes (EXIF 2.3, tag 0x0112): code o says how the stored
 * pixels turn into the picture as displayed.
 *
 *   1 as stored            5 transposed (mirrored, then a quarter turn anticlockwise)
 *   2 mirrored left–right  6 a quarter turn clockwise
 *   3 half turn            7 transversed (mirrored, then a quarter turn clockwise)
 *   4 flipped top–bottom   8 a quarter turn anticlockwise
 */

export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** Whether `value` is an EXIF orientation code (an integer 1 to 8). */
export function isOrientation(value: unknown): value is Orientation {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 8;
}

/**
 * Where displayed pixel (x, y) of a w × h picture comes from in the stored one:
 * stored column = x, or w − 1 − x when `flipX`; stored row likewise; with `transposed`
 * the displayed x runs down the stored rows and y along the stored columns.
 */
export interface OrientationAxes {
  transposed: boolean;
  /** The displayed x axis runs backwards through its stored axis. */
  flipX: boolean;
  /** The displayed y axis runs backwards through its stored axis. */
  flipY: boolean;
}

/** The same in stored terms: which stored axes are read backwards. */
export interface StoredAxes {
  transposed: boolean;
  reverseColumns: boolean;
  reverseRows: boolean;
}

// Displayed → stored as a signed permutation of centred coordinates:
// stored = [[a, b], [c, d]] · displayed.
const MATRICES: Record<Orientation, readonly [number, number, number, number]> = {
  1: [1, 0, 0, 1],
  2: [-1, 0, 0, 1],
  3: [-1, 0, 0, -1],
  4: [1, 0, 0, -1],
  5: [0, 1, 1, 0],
  6: [0, 1, -1, 0],
  7: [0, -1, -1, 0],
  8: [0, -1, 1, 0],
};

/** The axes of orientation `o` (see OrientationAxes). */
export function orientationAxes(o: Orientation): OrientationAxes {
  const [a, b, c, d] = MATRICES[o];
  const transposed = a === 0;
  // Non-transposed: stored x = a·x, stored y = d·y. Transposed: stored x = b·y, stored y = c·x.
  return transposed ? { transposed, flipX: c < 0, flipY: b < 0 } : { transposed, flipX: a < 0, flipY: d < 0 };
}

/** Which stored axes orientation `o` reads backwards. */
export function storedAxes(o: Orientation): StoredAxes {
  const [a, b, c, d] = MATRICES[o];
  return a === 0
    ? { transposed: true, reverseColumns: b < 0, reverseRows: c < 0 }
    : { transposed: false, reverseColumns: a < 0, reverseRows: d < 0 };
}

/**
 * The orientation of "`first`, then `then`": `then` applied to the picture that
 * `first` displays. A file stored with EXIF orientation o, rotated by variant v, is
 * the stored pixels in orientation composeOrientations(o, v).
 */
export function composeOrientations(first: Orientation, then: Orientation): Orientation {
  const [a1, b1, c1, d1] = MATRICES[first];
  const [a2, b2, c2, d2] = MATRICES[then];
  // stored ← first's display ← then's display: S = S_first · S_then.
  const product = [a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2];
  for (const [code, m] of Object.entries(MATRICES)) {
    if (m.every((v, i) => v === product[i])) return Number(code) as Orientation;
  }
  throw new Error('unreachable: the dihedral group is closed');
}
