// What each measurement hands back to run.ts: tables to print and figures for the JSON file.
import type { Cell } from './table.ts';

export interface Table {
  title: string;
  header: string[];
  rows: Cell[][];
}

export interface Section {
  id:
    'connect' | 'publish' | 'keys' | 'tags' | 'auth' | 'fleet' | 'cli' | 'wire' | 'store' | 'cluster' | 'subs' | 'cost';
  title: string;
  tables: Table[];
  /** Figures for results JSON (numbers rounded). */
  data: Record<string, unknown>;
  /** Targets: name, measured value, limit, met. */
  targets: { name: string; value: number; limit: string; met: boolean }[];
  notes: string[];
}

export interface BenchOptions {
  quick: boolean;
  log: (line: string) => void;
}
