// Types for lint-type-inputs.mjs (plain JavaScript: eslint.config.js loads it with bare Node).
export declare function typeInputsDigest(root: string): string;
