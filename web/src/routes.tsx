// Client routes. Pages load on demand so the first screen downloads only what it shows.

import { lazy } from 'react';
import { createBrowserRouter } from 'react-router';
import { page } from './components/page';
import { RequireSession } from './auth/RequireSession';
import { RouteError } from './components/RouteError';
import { AREAS } from './pages/areas';

const AppLayout = lazy(() => import('./layout/AppLayout'));
const Login = lazy(() => import('./pages/auth/Login'));
const SignUp = lazy(() => import('./pages/auth/SignUp'));
const PasswordReset = lazy(() => import('./pages/auth/PasswordReset'));
const AcceptInvitation = lazy(() => import('./pages/auth/AcceptInvitation'));
const Home = lazy(() => import('./pages/Home'));
const ContactList = lazy(() => import('./pages/contacts/ContactList'));
const ContactDetail = lazy(() => import('./pages/contacts/ContactDetail'));
const ContactCreate = lazy(() => import('./pages/contacts/ContactCreate'));
const NotFound = lazy(() => import('./pages/NotFound'));

export const router = createBrowserRouter([
  { path: '/login', element: page(<Login />), errorElement: <RouteError /> },
  { path: '/signup', element: page(<SignUp />), errorElement: <RouteError /> },
  { path: '/password-reset', element: page(<PasswordReset />), errorElement: <RouteError /> },
  { path: '/invitations/accept', element: page(<AcceptInvitation />), errorElement: <RouteError /> },
  {
    element: (
      <RequireSession>{page(<AppLayout />)}</RequireSession>
    ),
    errorElement: <RouteError />,
    children: [
      { index: true, element: page(<Home />) },
      { path: 'contacts', element: page(<ContactList />) },
      { path: 'contacts/new', element: page(<ContactCreate />) },
      { path: 'contacts/:id', element: page(<ContactDetail />) },
      ...Object.values(AREAS).flatMap((a) => a.routes),
      { path: '*', element: page(<NotFound />) },
    ],
  },
]);
