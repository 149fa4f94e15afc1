/** Splits a list into runs of at most `size`, to stay under each driver's bound-parameter limit. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
