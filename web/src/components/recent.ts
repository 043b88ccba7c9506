// Recently opened records, for the workbench. Only ids and names, per user, in this
// browser; cleared on sign-out.

const KEY = 'crm.recent';
const MAX = 8;

export interface Recent {
  kind: 'contact' | 'company' | 'deal';
  id: string;
  name: string;
}

function read(): Recent[] {
  try {
    const raw = localStorage.getItem(KEY);
    const list = raw ? (JSON.parse(raw) as unknown) : [];
    return Array.isArray(list) ? (list as Recent[]) : [];
  } catch {
    return [];
  }
}

export function recentRecords(): Recent[] {
  return read();
}

export function rememberRecent(entry: Recent) {
  try {
    const next = [entry, ...read().filter((r) => r.id !== entry.id)].slice(0, MAX);
    localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Storage full or disabled: the list is a convenience.
  }
}

export function forgetRecent() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing to forget.
  }
}
