// The signed-in part of the console: the session, then the frame around the pages.

import { RequireSession } from '../auth/RequireSession';
import AppLayout from './AppLayout';

export default function SignedIn() {
  return (
    <RequireSession>
      <AppLayout />
    </RequireSession>
  );
}
