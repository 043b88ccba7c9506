// Signed-in pages: on a fresh load the session is resumed from the refresh cookie
// (silently); without one, the user goes to the sign-in page and comes back afterwards.

import { useEffect, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { Spin } from 'antd';
import { refresh, sessionState } from './session';
import { useSessionState } from './useSession';

export function RequireSession({ children }: { children: ReactNode }) {
  const state = useSessionState();
  const location = useLocation();
  useEffect(() => {
    if (sessionState() === 'unknown') void refresh();
  }, []);
  if (state === 'unknown') {
    return (
      <div style={{ padding: 96, textAlign: 'center' }}>
        <Spin size="large" />
      </div>
    );
  }
  if (state === 'signed-out') {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <>{children}</>;
}
