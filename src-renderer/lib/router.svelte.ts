// Hash routing: #/broker, #/devices, #/devices/ID, #/keys, #/keys/ID, #/simulator, #/messages,
// #/decisions, #/playground.
export const VIEWS = ['broker', 'devices', 'keys', 'simulator', 'messages', 'decisions', 'playground'] as const;
export type View = (typeof VIEWS)[number];

function parse(hash: string): { view: View; id: string | null } {
  const [, view, id] = hash.replace(/^#/, '').split('/');
  const v = (VIEWS as readonly string[]).includes(view ?? '') ? (view as View) : 'broker';
  return { view: v, id: id && /^[0-9a-f]{24}$/.test(id) ? id : null };
}

export const route = $state(parse(location.hash));

window.addEventListener('hashchange', () => Object.assign(route, parse(location.hash)));

export function go(view: View, id?: string | null): void {
  location.hash = id ? `#/${view}/${id}` : `#/${view}`;
}
