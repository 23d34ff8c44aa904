import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, type Session, signIn } from '../api/session';

function explain(error: Error): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'That API token was not accepted. Check it and try again.';
    if (error.status === 429) return 'Too many failed sign-ins from here. Wait a minute, then try again.';
    return error.message;
  }
  return `The server could not be reached: ${error.message}`;
}

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const id = useId();
  const mutation = useMutation({
    mutationFn: signIn,
    onSuccess: (session) => {
      // The token leaves memory with the form: the session cookie is what signs requests now.
      setToken('');
      onSignedIn(session);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) mutation.mutate(token.trim());
  };
  return (
    <main className="sign-in">
      <h1>Sign in</h1>
      <p>Sign in to servicetitan-sync with an API token.</p>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${id}-token`}>API token</label>
        <input
          id={`${id}-token`}
          name="token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={mutation.isError}
          aria-describedby={mutation.isError ? `${id}-error` : undefined}
        />
        {mutation.isError && (
          <p id={`${id}-error`} className="field-error" role="alert">
            {explain(mutation.error)}
          </p>
        )}
        <button type="submit" disabled={mutation.isPending || !token.trim()}>
          {mutation.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
