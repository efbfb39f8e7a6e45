// Types for download-progress.mjs (plain JavaScript so `npm start` runs it with bare Node).
export interface ProgressReporter {
  update(p: { transferred: number; total: number | null }): void;
  done(): void;
  abort(): void;
}

export declare function formatProgress(transferred: number, total: number | null): string;

export declare function createProgressReporter(
  stream: { write(s: string): unknown; isTTY?: boolean },
  label: string,
  opts?: { isTTY?: boolean; now?: () => number },
): ProgressReporter;
