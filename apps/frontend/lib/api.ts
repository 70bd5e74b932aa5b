// Browser-side client for the Taskflow backend. Every call is same-origin `/api/...`: in the
// cluster the ingress sends `/api` to the backend, and a frontend running on its own proxies it
// (app/api/[...path]/route.ts). Failures become an ApiError whose `kind` the UI switches on.

export type UserId = string | number;

/** Field limits of the backend (DESIGN.md): the inputs enforce them before a round trip. */
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 1000;

export interface Session {
  token: string;
  userId: UserId;
  email: string;
}

export interface Task {
  id: number | string;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

export interface TaskInput {
  title: string;
  description: string;
}

export interface ToolCall {
  name?: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  [key: string]: unknown;
}

export interface ChatReply {
  conversation_id: number | string;
  response: string;
  tool_calls: ToolCall[];
}

interface AuthReply {
  access_token: string;
  user_id: UserId;
}

export type ApiErrorKind =
  | "network" // the request never got an HTTP answer
  | "unavailable" // the server (or the proxy in front of it) says it cannot serve now
  | "unauthorized" // missing, bad or expired token
  | "forbidden"
  | "not-found"
  | "conflict"
  | "invalid" // 4xx about the request body
  | "server";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  /** Seconds from the Retry-After header, when the server sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(kind: ApiErrorKind, message: string, status: number | null, retryAfterSeconds: number | null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const DEFAULT_MESSAGES: Record<ApiErrorKind, string> = {
  network: "Cannot reach Taskflow. Check your connection and try again.",
  unavailable: "The Taskflow server is unavailable right now. Try again in a moment.",
  unauthorized: "Your session has ended. Please log in again.",
  forbidden: "You are not allowed to do that.",
  "not-found": "That item no longer exists.",
  conflict: "That conflicts with existing data.",
  invalid: "Some of the input is not valid.",
  server: "The server ran into a problem. Try again.",
};

function kindForStatus(status: number): ApiErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not-found";
  if (status === 409) return "conflict";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "invalid";
  return "server";
}

/** Parses Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** The human-readable part of an error body: FastAPI's `detail` (string or list), or `error`/`message`. */
export function describeErrorBody(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const record = body as Record<string, unknown>;
  const detail = record.detail;
  if (typeof detail === "string" && detail !== "") return detail;
  if (Array.isArray(detail)) {
    const messages = detail
      .map((item) => {
        if (typeof item !== "object" || item === null) return null;
        const entry = item as Record<string, unknown>;
        const field = Array.isArray(entry.loc) ? entry.loc.filter((part) => part !== "body").join(".") : "";
        const msg = typeof entry.msg === "string" ? entry.msg : null;
        if (msg === null) return null;
        return field ? `${field}: ${msg}` : msg;
      })
      .filter((message): message is string => message !== null);
    if (messages.length > 0) return messages.join("; ");
  }
  for (const key of ["message", "error"] as const) {
    const value = record[key];
    if (typeof value === "string" && value !== "") return value;
  }
  if (typeof detail === "object" && detail !== null) return describeErrorBody(detail);
  return null;
}

interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  token?: string;
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token) headers.Authorization = `Bearer ${options.token}`;

  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError("network", DEFAULT_MESSAGES.network, null, null);
  }

  const text = await response.text().catch(() => "");
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }

  if (!response.ok) {
    const kind = kindForStatus(response.status);
    // Gateways answer 502/503/504 with their own HTML; only a JSON message from us is worth showing.
    const message =
      kind === "unavailable" || kind === "server"
        ? DEFAULT_MESSAGES[kind]
        : (describeErrorBody(parsed) ?? DEFAULT_MESSAGES[kind]);
    throw new ApiError(kind, message, response.status, parseRetryAfter(response.headers.get("Retry-After")));
  }
  return parsed as T;
}

export async function signUp(email: string, password: string): Promise<Session> {
  const reply = await request<AuthReply>("/auth/signup", { method: "POST", body: { email, password } });
  return { token: reply.access_token, userId: reply.user_id, email };
}

export async function logIn(email: string, password: string): Promise<Session> {
  const reply = await request<AuthReply>("/auth/login", { method: "POST", body: { email, password } });
  return { token: reply.access_token, userId: reply.user_id, email };
}

function tasksPath(session: Session, id?: Task["id"]): string {
  const base = `/${encodeURIComponent(String(session.userId))}/tasks`;
  return id === undefined ? base : `${base}/${encodeURIComponent(String(id))}`;
}

export function listTasks(session: Session): Promise<Task[]> {
  return request<Task[]>(tasksPath(session), { token: session.token });
}

export function createTask(session: Session, input: TaskInput): Promise<Task> {
  return request<Task>(tasksPath(session), { method: "POST", body: input, token: session.token });
}

export function updateTask(session: Session, id: Task["id"], input: TaskInput): Promise<Task> {
  return request<Task>(tasksPath(session, id), { method: "PUT", body: input, token: session.token });
}

export function toggleTaskComplete(session: Session, id: Task["id"]): Promise<Task> {
  return request<Task>(`${tasksPath(session, id)}/complete`, { method: "PATCH", token: session.token });
}

export async function deleteTask(session: Session, id: Task["id"]): Promise<void> {
  await request<unknown>(tasksPath(session, id), { method: "DELETE", token: session.token });
}

export function sendChat(
  session: Session,
  message: string,
  conversationId: ChatReply["conversation_id"] | null,
): Promise<ChatReply> {
  const body: { message: string; conversation_id?: ChatReply["conversation_id"] } = { message };
  if (conversationId !== null) body.conversation_id = conversationId;
  return request<ChatReply>(`/${encodeURIComponent(String(session.userId))}/chat`, {
    method: "POST",
    body,
    token: session.token,
  });
}
