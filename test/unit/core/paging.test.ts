// core/paging.ts: the window of rows one page shows.
import { describe, expect, it } from 'vitest';
import { pageWindow } from '../../../src-main/core/paging.ts';

describe('pageWindow', () => {
  it('shows one page of rows and counts the pages', () => {
    expect(pageWindow(10_000, 0, 50)).toEqual({ page: 0, pages: 200, start: 0, end: 50 });
    expect(pageWindow(10_000, 199, 50)).toEqual({ page: 199, pages: 200, start: 9950, end: 10_000 });
    expect(pageWindow(101, 2, 50)).toEqual({ page: 2, pages: 3, start: 100, end: 101 });
  });

  it('clamps a page past the end (a list that shrank) to the last page, and an empty list to page 0', () => {
    expect(pageWindow(60, 5, 50)).toEqual({ page: 1, pages: 2, start: 50, end: 60 });
    expect(pageWindow(0, 3, 50)).toEqual({ page: 0, pages: 1, start: 0, end: 0 });
    expect(pageWindow(60, -1, 50).page).toBe(0);
  });

  it('names a bad size or length', () => {
    expect(() => pageWindow(10, 0, 0)).toThrow(/page size must be a positive integer, got 0/);
    expect(() => pageWindow(-1, 0, 10)).toThrow(/list length must be a whole number, got -1/);
  });
});
