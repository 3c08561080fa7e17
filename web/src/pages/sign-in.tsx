/**
 * @module pages/sign-in
 * Sign-in with a personal API key: checked against `GET /api/personal_api_keys/@current/` before
 * it is kept (in sessionStorage). A refused key shows why, on a screen of its own.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../api.ts';

export function SignIn({ refusal, onSignedIn }: { refusal: string | null; onSignedIn: (key: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = value.trim();
    if (key === '') {
      setError('Enter a personal API key (phx_…).');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Not apiCall: a refused key here is a form error, not a sign-out.
      const res = await fetch('/api/personal_api_keys/@current/', { headers: { authorization: `Bearer ${key}` } });
      if (res.status === 401 || res.status === 403) {
        const body = (await res.json().catch(() => ({}))) as { detail?: string };
        throw new ApiError(res.status, 'refused', body.detail ?? 'Key refused.', null);
      }
      if (!res.ok) throw new Error(`The server answered ${res.status}.`);
      onSignedIn(key);
    } catch (err) {
      setError(err instanceof ApiError ? `This key was refused: ${err.detail} Check that it is a personal API key (phx_…) that has not been revoked.` : `Could not reach Vexil: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <h1>Vexil</h1>
      <p>Sign in with a personal API key. The first start of Vexil prints one; a key holder can create more on the Keys page.</p>
      {refusal !== null && <p role="alert" class="error banner" data-testid="refused">{refusal}</p>}
      <form onSubmit={submit} noValidate>
        <label for="api-key">Personal API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="phx_…"
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          aria-invalid={error !== null}
          aria-describedby={error !== null ? 'api-key-error' : 'api-key-help'}
        />
        <small id="api-key-help">Kept in this tab's session storage only; signing out or closing the tab forgets it.</small>
        {error !== null && <p id="api-key-error" role="alert" class="error">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
