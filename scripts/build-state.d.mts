// Types for build-state.mjs (plain JavaScript: `npm test` and `npm run build` run it with bare Node).
export declare const BUILD_MANIFEST: string;
export declare const INPUT_DIRS: string[];
export declare const INPUT_FILES: string[];
export declare const OUTPUTS: string[];
export declare function inputFiles(root: string): string[];
export declare function inputsDigest(root: string): string;
export declare function writeBuildManifest(root: string, digest: string): void;
export declare function buildState(root: string): { fresh: true } | { fresh: false; why: string };
