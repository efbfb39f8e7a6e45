// Types for build-cli.mjs (plain JavaScript so `prepare` runs it without a build).
export declare function buildCli(root?: string): Promise<{ outdir: string; inputs: number }>;
