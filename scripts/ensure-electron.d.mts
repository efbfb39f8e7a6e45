// Types for ensure-electron.mjs (plain JavaScript so `npm start` runs it with bare Node).
export declare function electronPackageDir(env?: NodeJS.ProcessEnv, projectRoot?: string): string;
export declare function platformPath(env?: NodeJS.ProcessEnv): string;
export declare function installedElectron(dir: string, env?: NodeJS.ProcessEnv): string | null;
export declare function ensureElectron(opts?: {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  out?: { write(s: string): unknown; isTTY?: boolean };
}): Promise<{ executable: string; downloaded: boolean }>;
