// Types for cli-bundle.mjs (plain JavaScript so the bin can load it without a build).
export declare const BUNDLE_DIR: string;
export declare const MANIFEST: string;
export declare const ENTRY: string;
export declare function hashFile(file: string): string;
// One member per runnable state, so `state === 'fresh' || state === 'no-sources'` narrows.
export type BundleState =
  | { state: 'fresh'; entry: string }
  | { state: 'no-sources'; entry: string }
  | { state: 'missing' | 'stale'; why: string };
export declare function bundleState(root: string): BundleState;
