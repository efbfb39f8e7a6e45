// The access-key form's data (create and edit) and the requests built from it. Pure.
import type { AccessKey, AddressFilterType, Tag, TagMatch, TopicFilterType } from '../../../src-main/core/types.ts';

/** What the edit form changes (everything but the device restriction, which is immutable). */
export interface EditableKeyFields {
  name: string;
  description: string;
  addressFilterType: AddressFilterType;
  addresses: string[];
  filterType: TopicFilterType;
  pubTopics: string[];
  subTopics: string[];
}

export interface KeyForm extends EditableKeyFields {
  /** false = all devices. */
  restricted: boolean;
  deviceIds: string[];
  /** The tag rows as typed: an empty side means "any" (key only `type=*`, value only `*=2`). */
  deviceTags: Tag[];
}

export function emptyForm(): KeyForm {
  return {
    name: '',
    description: '',
    restricted: true,
    deviceIds: [],
    deviceTags: [],
    addressFilterType: 'all',
    addresses: [],
    filterType: 'none',
    pubTopics: [],
    subTopics: [],
  };
}

export function editableFrom(k: AccessKey): EditableKeyFields {
  return {
    name: k.name ?? '',
    description: k.description ?? '',
    addressFilterType: k.addressFilterType,
    addresses: [...k.addresses],
    filterType: k.filterType,
    pubTopics: [...k.pubTopics],
    subTopics: [...k.subTopics],
  };
}

/** Trimmed entries without the blank rows. The form adopts the result before sending, so the
 * server's `field[i]` errors point at the rows the user sees. */
export function cleanList(values: readonly string[]): string[] {
  return values.map((v) => v.trim()).filter((v) => v !== '');
}

/** The rows as restriction items: blank rows dropped, a blank side left out (it matches anything). */
export function cleanTags(tags: readonly Tag[]): TagMatch[] {
  return tags
    .filter((t) => t.key.trim() !== '' || t.value.trim() !== '')
    .map((t) => ({
      ...(t.key.trim() !== '' ? { key: t.key.trim() } : {}),
      ...(t.value.trim() !== '' ? { value: t.value } : {}),
    }));
}

/** Restriction items back into editable rows (a missing side becomes an empty input). */
export function tagRows(items: readonly TagMatch[]): Tag[] {
  return items.map((t) => ({ key: t.key ?? '', value: t.value ?? '' }));
}

const usesTopicLists = (t: TopicFilterType): boolean => t === 'whitelist' || t === 'blacklist';

function restrictionFields(f: EditableKeyFields): Record<string, unknown> {
  return {
    addressFilterType: f.addressFilterType,
    ...(f.addressFilterType !== 'all' ? { addresses: cleanList(f.addresses) } : {}),
    filterType: f.filterType,
    pubTopics: usesTopicLists(f.filterType) ? cleanList(f.pubTopics) : [],
    subTopics: usesTopicLists(f.filterType) ? cleanList(f.subTopics) : [],
  };
}

export function createRequest(f: KeyForm): Record<string, unknown> {
  const name = f.name.trim();
  const tags = cleanTags(f.deviceTags);
  return {
    ...(name ? { name } : {}),
    ...(f.description.trim() ? { description: f.description } : {}),
    ...(f.restricted && f.deviceIds.length ? { deviceIds: [...f.deviceIds] } : {}),
    ...(f.restricted && tags.length ? { deviceTags: tags } : {}),
    ...restrictionFields(f),
    createdVia: 'keys-page',
  };
}

export function patchRequest(f: EditableKeyFields, before: AccessKey): Record<string, unknown> {
  const name = f.name.trim();
  return {
    // An emptied name field removes the name (null); an empty field on an unnamed key sends nothing.
    ...(name ? { name } : before.name !== undefined ? { name: null } : {}),
    description: f.description,
    ...restrictionFields(f),
  };
}

/** Client-side checks the server cannot make for us (it would read "no ids, no tags" as "all devices"). */
export function precheck(f: KeyForm): Record<string, string> {
  if (f.restricted && f.deviceIds.length === 0 && cleanTags(f.deviceTags).length === 0) {
    return { deviceIds: 'Pick at least one device or add a tag — or choose “Allow all devices”.' };
  }
  return {};
}

const FORM_FIELDS =
  /^(name|description|deviceIds|deviceTags|addressFilterType|addresses|filterType|pubTopics|subTopics)\b/;

/** Field errors the form cannot place next to an input (shown in the general error line). */
export function unplacedErrors(errors: Record<string, string>): string[] {
  return Object.entries(errors)
    .filter(([f]) => !FORM_FIELDS.test(f))
    .map(([f, m]) => (m.startsWith(f) ? m : `${f}: ${m}`));
}

export function sameEditable(a: EditableKeyFields, b: EditableKeyFields): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
