// The browser session. The access token lives only in this module's memory; the refresh
// token is an HttpOnly cookie scripts cannot read (`crm_refresh`, Path=/v1/auth). Tabs
// share that cookie, and each refresh rotates it, so refreshes are serialised across tabs
// with the Web Locks API: a tab never sends a cookie another tab has already spent.

export interface TokenAnswer {
  access_token: string;
  expires_in: number;
  mfa_enrolment_required?: boolean;
}

type Listener = () => void;

/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

let accessToken: string | null = null;
let expiresAt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let state: 'unknown' | 'signed-in' | 'signed-out' = 'unknown';
let mfaEnrolmentRequired = false;
const listeners = new Set<Listener>();
const channel: BroadcastChannel | null =
  typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('crm-session');

function emit() {
  for (const l of listeners) l();
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function sessionState() {
  return state;
}

export function needsMfaEnrolment() {
  return mfaEnrolmentRequired;
}

/** Takes the tokens of a sign-in, sign-up, MFA step or refresh. */
export function signedIn(tokens: TokenAnswer) {
  accessToken = tokens.access_token;
  expiresAt = Date.now() + tokens.expires_in * 1000;
  mfaEnrolmentRequired = tokens.mfa_enrolment_required === true;
  state = 'signed-in';
  clearTimeout(timer);
  timer = setTimeout(() => void refresh(), Math.max(5_000, expiresAt - Date.now() - EARLY_MS));
  emit();
}

function forget() {
  accessToken = null;
  expiresAt = 0;
  clearTimeout(timer);
  state = 'signed-out';
  emit();
}

let inFlight: Promise<boolean> | null = null;

/** Gets a new access token with the refresh cookie; false when the session is over. */
export function refresh(): Promise<boolean> {
  if (!inFlight) {
    inFlight = withLock(async () => {
      const res = await fetch('/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
      }).catch(() => null);
      if (res?.ok) {
        signedIn((await res.json()) as TokenAnswer);
        return true;
      }
      // Read the refusal to its end, so the connection is free and the load settles.
      await res?.text().catch(() => '');
      // A network failure keeps the session: the next request tries again.
      if (res === null && accessToken) return false;
      forget();
      return false;
    }).finally(() => {
      inFlight = null;
    });
  }
  return inFlight;
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request('crm-refresh', work);
  }
  return work();
}

/** The token for the next request, refreshed first when it is about to expire. */
export async function currentToken(): Promise<string | null> {
  if (accessToken && Date.now() > expiresAt - 10_000) await refresh();
  return accessToken;
}

/** Ends the session everywhere: on the server, in this tab and in the other tabs. */
export async function logout() {
  await withLock(() =>
    fetch('/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
    }).catch(() => null),
  );
  forget();
  channel?.postMessage('logout');
}

channel?.addEventListener('message', (event) => {
  if (event.data === 'logout') forget();
});

// A tab woken from sleep may hold an expired token: renew it before the user acts.
if (typeof document !== 'undefined') {
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state === 'signed-in' && Date.now() > expiresAt - EARLY_MS) {
      void refresh();
    }
  });
}
