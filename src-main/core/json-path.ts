// JSON-path-like names for parts of an input, as error messages print them: `query.$or[1].name`,
// `body.tags[0].key`, `query["bad key"]`. Pure code.

/** The path of `key` inside `path`; an empty `path` is the document itself (`keys[0]`, not `.keys[0]`). */
export function childPath(path: string, key: string | number): string {
  if (path === '' && typeof key === 'string' && /^[$A-Za-z_][$\w-]*$/.test(key)) return key;
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[$A-Za-z_][$\w-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
