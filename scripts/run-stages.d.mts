// Types for run-stages.mjs (plain JavaScript: `npm test` runs it with bare Node).
export interface Stage {
  label: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
}
export interface StageResult {
  label: string;
  status: number;
  output: string;
  /** Wall time from its start to its end. */
  seconds: number;
}
export declare function stageHeader(s: Stage): string;
export declare function runConcurrently(stages: Stage[], write?: (text: string) => void): Promise<StageResult[]>;
