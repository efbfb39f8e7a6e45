import { describe, expect, it } from 'vitest';
import { Sessions, type LiveSession } from '../../../src-main/broker/sessions.ts';

const session = (deviceId: string, keyId: string): LiveSession =>
  ({ deviceId, keyId, close: () => {} }) as unknown as LiveSession;

// A key's one session is kept as it is, a Set only while it has several (issue 17 item 4):
// forKey must answer the same through every change between the two.
describe('Sessions by key', () => {
  it('one, several and back to one session of a key, then none', () => {
    const s = new Sessions();
    const a = session('d1', 'k');
    const b = session('d2', 'k');
    const c = session('d3', 'k');
    s.add(a);
    expect(s.forKey('k')).toEqual([a]);
    s.add(a); // the same session again changes nothing
    expect(s.forKey('k')).toEqual([a]);
    s.add(b);
    s.add(c);
    expect(s.forKey('k')).toEqual([a, b, c]);
    s.remove(a);
    expect(s.forKey('k')).toEqual([b, c]);
    s.remove(c);
    expect(s.forKey('k')).toEqual([b]);
    s.add(a);
    expect(s.forKey('k')).toEqual([b, a]);
    s.remove(b);
    s.remove(a);
    expect(s.forKey('k')).toEqual([]);
    expect(s.size).toBe(0);
    s.remove(a); // removing what is gone is harmless
    expect(s.forKey('k')).toEqual([]);
  });

  it('keys do not see each other; a session not of that key does not remove the key', () => {
    const s = new Sessions();
    const a = session('d1', 'k1');
    const b = session('d2', 'k2');
    s.add(a);
    s.add(b);
    s.remove(session('d9', 'k1'));
    expect(s.forKey('k1')).toEqual([a]);
    expect(s.forKey('k2')).toEqual([b]);
    expect(s.forKey('k3')).toEqual([]);
    expect(s.forDevice('d2')).toBe(b);
    expect(s.all()).toEqual([a, b]);
  });

  it('a device reconnecting: the newer session is the device’s, the key keeps both until the old one ends', () => {
    const s = new Sessions();
    const old = session('d1', 'k');
    const neu = session('d1', 'k');
    s.add(old);
    s.add(neu);
    expect(s.forDevice('d1')).toBe(neu);
    expect(s.forKey('k')).toEqual([old, neu]);
    s.remove(old);
    expect(s.forDevice('d1')).toBe(neu);
    expect(s.forKey('k')).toEqual([neu]);
  });
});
