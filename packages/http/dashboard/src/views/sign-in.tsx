/** Sign-in: a token is exchanged for a session cookie; the token itself is never stored. */

import { useSignal } from "@preact/signals";
import { api, setCsrf, unwrap } from "../api.js";
import { session } from "../state.js";

/** The sign-in form. */
export function SignIn() {
  const token = useSignal("");
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    busy.value = true;
    error.value = null;
    try {
      const me = await api.POST("/auth/session", { body: { token: token.value.trim() } }).then(unwrap);
      token.value = "";
      setCsrf(me.csrfToken ?? null);
      session.value = me;
    } catch (e) {
      error.value =
        (e as { status?: number }).status === 401 ? "That token is not known here." : (e as Error).message;
    } finally {
      busy.value = false;
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>tradecron</h1>
      <form onSubmit={submit}>
        <label for="token">Access token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          required
          value={token.value}
          onInput={(e) => {
            token.value = (e.target as HTMLInputElement).value;
          }}
        />
        <button type="submit" disabled={busy.value}>
          Sign in
        </button>
        {error.value ? (
          <p class="error" role="alert">
            {error.value}
          </p>
        ) : null}
        <p class="muted">The token is exchanged for a session cookie and not kept by the browser.</p>
      </form>
    </main>
  );
}
