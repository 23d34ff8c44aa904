import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getSession, type Session, signOut } from './api/session';
import { Dashboard } from './pages/Dashboard';
import { SignIn } from './pages/SignIn';

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
    <>
      <header className="top-bar">
        <span className="brand">servicetitan-sync</span>
        <span className="who">
          Signed in as {s.principal.tokenName ?? 'a token'} ({s.principal.role}
          {s.principal.companyId !== null ? `, company ${s.principal.companyId}` : ''})
        </span>
        <button type="button" onClick={() => out.mutate(s)} disabled={out.isPending}>
          Sign out
        </button>
      </header>
      <main>
        <Dashboard onUnauthorized={() => queryClient.setQueryData(['session'], null)} />
      </main>
    </>
  );
}
