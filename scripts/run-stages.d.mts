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
}
export declare function stageHeader(s: Stage): string;
export declare function runConcurrently(stages: Stage[], write?: (text: string) => void): Promise<StageResult[]>;
export declare function startStage(stage: Stage): Promise<StageResult>;
export declare function whenAtMost(running: Promise<unknown>[], n: number): Promise<void>;
export declare function printInOrder(
  stages: Stage[],
  running: Promise<StageResult | null>[],
  write?: (text: string) => void,
): Promise<(StageResult | null)[]>;
