// The signed-in user, kept in localStorage so a reload or a second tab stays signed in.
// The token expires on the server's schedule; a 401 from any call clears it (see useSession).

import type { Session } from "./api";

const SESSION_KEY = "taskflow.session";
const NOTICE_KEY = "taskflow.notice";

function isSession(value: unknown): value is Session {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.token === "string" &&
    record.token !== "" &&
    (typeof record.userId === "string" || typeof record.userId === "number") &&
    typeof record.email === "string"
  );
}

export function loadSession(): Session | null {
  try {
    const raw = window.localStorage.getItem(SESSION_KEY);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    return isSession(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  window.localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  window.localStorage.removeItem(SESSION_KEY);
}

/** A one-time message for the next page (e.g. "session expired" shown on the login page). */
export function setNotice(message: string): void {
  window.sessionStorage.setItem(NOTICE_KEY, message);
}

export function takeNotice(): string | null {
  const message = window.sessionStorage.getItem(NOTICE_KEY);
  if (message !== null) window.sessionStorage.removeItem(NOTICE_KEY);
  return message;
}
