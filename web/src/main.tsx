import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router';
import './global.css';
import './i18n';
import { router } from './routes';
import { Providers } from './Providers';
import { ApiProblem } from './api/problem';
import { refresh } from './auth/session';

// Resume the session from the refresh cookie at once, while the page's code loads.
const PUBLIC = ['/login', '/signup', '/password-reset', '/invitations/accept'];
if (!PUBLIC.includes(window.location.pathname)) void refresh();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal will not change by asking again; a network blip may.
      retry: (count, error) => !(error instanceof ApiProblem && error.status > 0) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Providers>
        <RouterProvider router={router} />
      </Providers>
    </QueryClientProvider>
  </StrictMode>,
);
