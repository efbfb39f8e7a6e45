// The key linter (src-main/core/key-lint.ts, pure) on what the user is typing: the create form or
// the edit form as a draft key. Findings about use (never used, unused for 30 days) belong to a
// stored key's page, not to a form.
import { lintKey, USE_CODES, type LintFinding } from '../../../src-main/core/key-lint.ts';
import type { AccessKey, Device } from '../../../src-main/core/types.ts';
import { cleanList, cleanTags, type EditableKeyFields, type KeyForm } from './key-form.ts';

const usesLists = (f: EditableKeyFields) => f.filterType === 'whitelist' || f.filterType === 'blacklist';

function editable(f: EditableKeyFields) {
  return {
    addressFilterType: f.addressFilterType,
    addresses: f.addressFilterType === 'all' ? [] : cleanList(f.addresses),
    filterType: f.filterType,
    pubTopics: usesLists(f) ? cleanList(f.pubTopics) : [],
    subTopics: usesLists(f) ? cleanList(f.subTopics) : [],
  };
}

/** The key the create form would make (no id yet: it shares nothing with a stored key's id). */
export function draftFromForm(f: KeyForm): AccessKey {
  const tags = cleanTags(f.deviceTags);
  return {
    id: '',
    key: '',
    status: 'active',
    ...(f.restricted && f.deviceIds.length ? { deviceIds: [...f.deviceIds] } : {}),
    ...(f.restricted && tags.length ? { deviceTags: tags } : {}),
    ...editable(f),
    creationDate: '',
    lastUpdated: '',
    createdVia: 'keys-page',
  };
}

/** The stored key with the edit form's changes applied. */
export function draftFromEdit(k: AccessKey, f: EditableKeyFields): AccessKey {
  return { ...k, ...editable(f) };
}

/** Warnings for a form: every finding but the ones about use. */
export function formWarnings(
  draft: AccessKey,
  devices: readonly Device[],
  keys: readonly AccessKey[],
  now = new Date(),
): LintFinding[] {
  return lintKey(draft, { devices, keys, now }).filter((f) => !USE_CODES.includes(f.code));
}

/** The create form: nothing about devices while "only these devices" has none yet (precheck says so). */
export function createWarnings(f: KeyForm, devices: readonly Device[], keys: readonly AccessKey[]): LintFinding[] {
  const pending = f.restricted && f.deviceIds.length === 0 && cleanTags(f.deviceTags).length === 0;
  const found = formWarnings(draftFromForm(f), devices, keys);
  // An empty restriction would read as "all devices" to the linter: nothing about devices yet.
  return pending ? found.filter((x) => sectionOf(x) !== 'devices') : found;
}

export type FormSectionName = 'devices' | 'addresses' | 'topics';

/** The form section a finding is about, so a warning shows next to what the user just changed. */
export function sectionOf(f: LintFinding): FormSectionName {
  if (f.code === 'address.any') return 'addresses';
  if (f.code.startsWith('topics.')) return 'topics';
  return 'devices';
}
