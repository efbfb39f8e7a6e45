// The linter as the key forms run it in the renderer: on the form as typed, without the findings
// about use (a form has no history), and without "all devices" while a restriction is still empty.
import { describe, expect, it } from 'vitest';
import { createWarnings, draftFromEdit, formWarnings } from '../../../src-renderer/components/keys/key-lint-draft.ts';
import { editableFrom, emptyForm, type KeyForm } from '../../../src-renderer/components/keys/key-form.ts';
import { accessKey, device, hexId } from '../../helpers/core-fixtures.ts';

const door = device({ id: hexId(1), name: 'door' });
const gate = device({ id: hexId(2), name: 'gate' });
const devices = [door, gate];
const form = (over: Partial<KeyForm>): KeyForm => ({ ...emptyForm(), ...over });
const codes = (f: { code: string }[]) => f.map((x) => x.code);

describe('create form warnings', () => {
  it('a clean single-device key has none (not even "never used")', () => {
    expect(createWarnings(form({ deviceIds: [door.id] }), devices, [])).toEqual([]);
  });

  it('warns about an all-devices key, with the fix', () => {
    const w = createWarnings(form({ restricted: false }), devices, []);
    expect(codes(w)).toEqual(['key.all-devices']);
    expect(w[0]?.fix).toMatch(/one key per device/);
  });

  it('says nothing about devices while "only these devices" lists none yet', () => {
    const other = accessKey({ id: hexId(9), deviceIds: [door.id] }).record;
    expect(createWarnings(form({ restricted: true }), devices, [other])).toEqual([]);
    const topics = form({ restricted: true, filterType: 'all' });
    expect(codes(createWarnings(topics, devices, [other]))).toEqual(['topics.filter-all']);
  });

  it('follows the rows as typed: blank rows dropped, # in a whitelist, two devices, 0.0.0.0/0', () => {
    const w = createWarnings(
      form({
        deviceIds: [door.id, gate.id],
        filterType: 'whitelist',
        pubTopics: ['', ' # '],
        addressFilterType: 'whitelist',
        addresses: ['0.0.0.0/0'],
      }),
      devices,
      [],
    );
    expect(codes(w)).toEqual(['scope.many-devices', 'topics.wildcard-whitelist', 'address.any']);
  });

  it('warns when another active key already admits the device', () => {
    const other = accessKey({ id: hexId(9), deviceIds: [door.id] }).record;
    expect(codes(createWarnings(form({ deviceIds: [door.id] }), devices, [other]))).toEqual(['devices.shared-key']);
  });
});

describe('edit form warnings', () => {
  it('lint the key with the edits applied, use findings left out', () => {
    const stored = accessKey({ id: hexId(5), deviceIds: [door.id] }).record; // never used
    const edits = { ...editableFrom(stored), filterType: 'all' as const };
    expect(codes(formWarnings(draftFromEdit(stored, edits), devices, [stored]))).toEqual(['topics.filter-all']);
    expect(formWarnings(draftFromEdit(stored, editableFrom(stored)), devices, [stored])).toEqual([]);
  });
});
