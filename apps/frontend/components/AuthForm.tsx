"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useState } from "react";

import { ApiError, logIn, signUp } from "@/lib/api";
import { loadSession, saveSession, takeNotice } from "@/lib/session";

type Mode = "login" | "signup";

const MIN_PASSWORD_LENGTH = 8;

const COPY: Record<Mode, { heading: string; submit: string; busy: string }> = {
  login: { heading: "Log in to Taskflow", submit: "Log in", busy: "Logging in…" },
  signup: { heading: "Create your Taskflow account", submit: "Sign up", busy: "Creating account…" },
};

function describeAuthError(mode: Mode, error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong. Try again.";
  if (mode === "login" && (error.kind === "unauthorized" || error.kind === "not-found")) {
    return "Wrong email or password.";
  }
  if (mode === "signup" && error.kind === "conflict") {
    return "An account with this email already exists. Log in instead.";
  }
  return error.message;
}

export default function AuthForm({ mode }: { mode: Mode }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNoticeText] = useState<string | null>(null);
  const copy = COPY[mode];

  useEffect(() => {
    if (loadSession() !== null) {
      router.replace("/");
      return;
    }
    setNoticeText(takeNotice());
  }, [router]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const session = mode === "login" ? await logIn(email.trim(), password) : await signUp(email.trim(), password);
      saveSession(session);
      router.replace("/");
    } catch (caught) {
      setError(describeAuthError(mode, caught));
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <div className="card auth-card">
        <p className="brand" aria-hidden="true">
          Taskflow
        </p>
        <h1>{copy.heading}</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} aria-label={copy.heading}>
          <label htmlFor="auth-email">Email</label>
          <input
            id="auth-email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
          <label htmlFor="auth-password">Password</label>
          <input
            id="auth-password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            required
            minLength={mode === "signup" ? MIN_PASSWORD_LENGTH : undefined}
            aria-describedby={mode === "signup" ? "auth-password-hint" : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          {mode === "signup" && (
            <p id="auth-password-hint" className="hint">
              At least {MIN_PASSWORD_LENGTH} characters.
            </p>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? copy.busy : copy.submit}
          </button>
        </form>
        <p className="switch">
          {mode === "login" ? (
            <>
              New here? <Link href="/signup">Create an account</Link>
            </>
          ) : (
            <>
              Already have an account? <Link href="/login">Log in</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
