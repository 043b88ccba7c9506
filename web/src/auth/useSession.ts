import { useSyncExternalStore } from 'react';
import { sessionState, subscribe } from './session';

export function useSessionState() {
  return useSyncExternalStore(subscribe, sessionState, sessionState);
}
