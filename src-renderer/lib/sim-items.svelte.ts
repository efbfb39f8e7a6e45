// "Show simulator items" (docs/design.md §13): simulator-made devices and keys (core/sim-marks.ts) are hidden
// in the Devices and Access Keys lists until the user asks to see them; one switch for both lists,
// kept for this browser (localStorage) so a reload does not bring the clutter back.
const STORAGE = 'keyport.showSimItems';

function initial(): boolean {
  try {
    return localStorage.getItem(STORAGE) === '1';
  } catch {
    return false; // storage blocked: hidden by default
  }
}

export const simItems = $state({ show: initial() });

export function setShowSimItems(show: boolean): void {
  simItems.show = show;
  try {
    localStorage.setItem(STORAGE, show ? '1' : '0');
  } catch {
    // storage blocked: the choice lasts for this page
  }
}
