/**
 * Reading lists by position where the position is known to exist (a loop bound, a length checked just before):
 * with `noUncheckedIndexedAccess` on, `items[i]` is `T | undefined`, and these give `T`, or throw an error naming
 * what was missing should the reasoning ever be wrong. Hot loops use `items[i]!` instead (no call per element).
 */

/** The item at `index` (negative counts from the end, as Array.prototype.at does); throws if there is none. */
export function at<T>(items: ArrayLike<T>, index: number, what = 'item'): T {
  const i = index < 0 ? items.length + index : index;
  if (!(Number.isInteger(i) && i >= 0 && i < items.length)) throw new RangeError(`no ${what} at index ${index} of ${items.length}`);
  return items[i] as T;
}

/** The first item; throws, naming `what`, if the list is empty. */
export function first<T>(items: ArrayLike<T>, what = 'item'): T {
  return at(items, 0, what);
}

/** The last item; throws, naming `what`, if the list is empty. */
export function last<T>(items: ArrayLike<T>, what = 'item'): T {
  return at(items, -1, what);
}
