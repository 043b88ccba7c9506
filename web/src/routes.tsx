// Client routes. Pages load on demand so the first screen downloads only what it shows;
// the router fetches a route's modules (frame and page) in parallel while it matches.

import { createBrowserRouter, type RouteObject } from 'react-router';
import { Spin } from 'antd';
import { RouteError } from './components/RouteError';
import { AREAS } from './pages/areas';

type Module = { default: React.ComponentType };

/** A route whose component is the default export of a lazily loaded module. */
function lazyPage(load: () => Promise<Module>): Pick<RouteObject, 'lazy'> {
  return { lazy: async () => ({ Component: (await load()).default }) };
}

const loading = (
  <div style={{ padding: 96, textAlign: 'center' }}>
    <Spin size="large" />
  </div>
);

export const router = createBrowserRouter([
  { path: '/login', ...lazyPage(() => import('./pages/auth/Login')), errorElement: <RouteError />, hydrateFallbackElement: loading },
  { path: '/signup', ...lazyPage(() => import('./pages/auth/SignUp')), errorElement: <RouteError />, hydrateFallbackElement: loading },
  {
    path: '/password-reset',
    ...lazyPage(() => import('./pages/auth/PasswordReset')),
    errorElement: <RouteError />,
    hydrateFallbackElement: loading,
  },
  {
    path: '/invitations/accept',
    ...lazyPage(() => import('./pages/auth/AcceptInvitation')),
    errorElement: <RouteError />,
    hydrateFallbackElement: loading,
  },
  {
    ...lazyPage(() => import('./layout/SignedIn')),
    errorElement: <RouteError />,
    hydrateFallbackElement: loading,
    children: [
      { index: true, ...lazyPage(() => import('./pages/Home')) },
      { path: 'contacts', ...lazyPage(() => import('./pages/contacts/ContactList')) },
      { path: 'contacts/new', ...lazyPage(() => import('./pages/contacts/ContactCreate')) },
      { path: 'contacts/:id', ...lazyPage(() => import('./pages/contacts/ContactDetail')) },
      ...Object.values(AREAS).flatMap((a) => a.routes),
      { path: '*', ...lazyPage(() => import('./pages/NotFound')) },
    ],
  },
]);
