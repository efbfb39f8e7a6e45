// One page of a long list (devices, keys, clients): the renderer draws at most `size` rows, so a
// list of 10,000 stays as quick to lay out and scroll as a list of 50.

export interface PageWindow {
  /** The page shown, clamped into 0 … pages - 1 (a shrinking list never leaves an empty page). */
  page: number;
  pages: number;
  /** Index of the first row shown and one past the last (start === end for an empty list). */
  start: number;
  end: number;
}

export function pageWindow(total: number, page: number, size: number): PageWindow {
  if (!Number.isInteger(size) || size < 1) throw new Error(`page size must be a positive integer, got ${size}`);
  if (!Number.isInteger(total) || total < 0) throw new Error(`list length must be a whole number, got ${total}`);
  const pages = Math.max(1, Math.ceil(total / size));
  const p = Math.min(Math.max(0, Math.floor(Number.isFinite(page) ? page : 0)), pages - 1);
  const start = p * size;
  return { page: p, pages, start, end: Math.min(total, start + size) };
}
