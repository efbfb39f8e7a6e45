// Types for check-doc-refs.mjs, so the unit test can import it under `tsc --strict`.
export declare const SCANNED: readonly string[];
export declare function parseDoc(
  text: string,
  name: string,
): { sections: Map<string, number>; anchors: Set<string>; problems: string[] };
export declare function checkDocRefs(root: string): { problems: string[]; references: number; files: number };
