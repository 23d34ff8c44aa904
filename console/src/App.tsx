import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { BrowserRouter, NavLink, Route, Routes } from 'react-router';
import { setUnauthorizedHandler } from './api/client';
import { getSession, type Session, signOut } from './api/session';
import { Audit } from './pages/Audit';
import { ConnectTenant } from './pages/ConnectTenant';
import { Credential } from './pages/Credential';
import { Dashboard } from './pages/Dashboard';
import { Flags } from './pages/Flags';
import { Run } from './pages/Run';
import { Setup } from './pages/Setup';
import { SignIn } from './pages/SignIn';
import { Tokens } from './pages/Tokens';
import { SessionContext, useCan, useSession } from './session';

export function App() {
  const queryClient = useQueryClient();
  const session = useQuery({ queryKey: ['session'], queryFn: getSession, staleTime: 60_000 });
  const out = useMutation({
    mutationFn: (s: Session) => signOut(s.csrfToken),
    onSettled: () => {
      // Nothing of the signed-out user stays cached for the next one.
      queryClient.clear();
      queryClient.setQueryData(['session'], null);
    },
  });
  // A 401 anywhere means the session expired or ended elsewhere: back to the sign-in page.
  useEffect(() => setUnauthorizedHandler(() => queryClient.setQueryData(['session'], null)), [queryClient]);

  if (session.isPending) return <p className="page-message">Loading…</p>;
  if (session.isError)
    return (
      <p className="page-message" role="alert">
        The server could not be reached: {session.error.message}
      </p>
    );
  if (!session.data) return <SignIn onSignedIn={(s) => queryClient.setQueryData(['session'], s)} />;

  const s = session.data;
  return (
    <SessionContext.Provider value={s}>
      <BrowserRouter>
        <header className="top-bar">
          <span className="brand">servicetitan-sync</span>
          <Nav />
          <span className="who">
            Signed in as {s.principal.tokenName ?? 'a token'} ({s.principal.role}
            {s.principal.companyId !== null ? `, company ${s.principal.companyId}` : ''})
          </span>
          <button type="button" onClick={() => out.mutate(s)} disabled={out.isPending}>
            Sign out
          </button>
        </header>
        <main>
          <Routes>
            <Route path="/" element={<Dashboard />} />
            <Route path="/connect" element={<ConnectTenant />} />
            <Route path="/credentials/:id" element={<Credential />} />
            <Route path="/runs/:id" element={<Run />} />
            <Route path="/tokens" element={<Tokens />} />
            <Route path="/audit" element={<Audit />} />
            <Route path="/setup" element={<Setup />} />
            <Route path="/flags" element={<Flags />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </main>
      </BrowserRouter>
    </SessionContext.Provider>
  );
}

/** The pages this role may use (the API enforces the same; hidden links only spare a 403). */
function Nav() {
  const admin = useCan('admin');
  // Tokens and Setup span every company: not for an admin limited to one (the API refuses it too).
  const unrestricted = useSession().principal.companyId === null;
  return (
    <nav aria-label="Main">
      <NavLink to="/" end>
        Dashboard
      </NavLink>
      {admin && (
        <>
          {unrestricted && <NavLink to="/tokens">API tokens</NavLink>}
          <NavLink to="/audit">Audit trail</NavLink>
          <NavLink to="/flags">Feature flags</NavLink>
          {unrestricted && <NavLink to="/setup">Setup</NavLink>}
        </>
      )}
    </nav>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page here. <NavLink to="/">Back to the dashboard</NavLink>.
      </p>
    </section>
  );
}
