// Server side of the same-origin `/api` contract for a frontend that runs without the ingress:
// forwards the request to BACKEND_URL (read per request, so one image serves every cluster) and
// answers 502/504 with a JSON body when the backend cannot be reached or is too slow.

const FORWARDED_REQUEST_HEADERS = ["accept", "authorization", "content-type", "x-request-id"];
const FORWARDED_RESPONSE_HEADERS = [
  "cache-control",
  "content-type",
  "location",
  "retry-after",
  "www-authenticate",
  "x-request-id",
];
const DEFAULT_TIMEOUT_SECONDS = 30;
/** The backend's own cap (1 MiB): a larger body is refused here without being buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;
const BODYLESS_STATUSES = new Set([101, 204, 205, 304]);
/** This hop in `Via` (RFC 9110, 7.6.3), on the request it forwards and the response it relays: it
 * tells whoever receives either that the frontend's proxy, not the ingress, routed the call. */
export const VIA_HOP = "1.1 taskflow-frontend";

/** `Via` with this hop appended to what earlier hops wrote. */
export function withVia(received: string | null): string {
  const earlier = received?.trim();
  return earlier ? `${earlier}, ${VIA_HOP}` : VIA_HOP;
}

export function backendBaseUrl(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env.BACKEND_URL?.trim();
  if (!value) return null;
  return value.replace(/\/+$/, "");
}

export function backendTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.BACKEND_TIMEOUT_SECONDS);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_SECONDS) * 1000;
}

/** The backend URL for `/api/<segments>?<query>`; segments arrive decoded, so encode them again. */
export function backendTarget(base: string, segments: readonly string[], search: string): string {
  return `${base}/api/${segments.map((segment) => encodeURIComponent(segment)).join("/")}${search}`;
}

function jsonError(status: number, detail: string): Response {
  return Response.json({ detail }, { status, headers: { "Cache-Control": "no-store" } });
}

/** fetch's own message is just "fetch failed"; the reason is in `cause`. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.name}: ${error.message}${cause}`;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

class BodyTooLargeError extends Error {}

/** The request body, read up to `limit` bytes; BodyTooLargeError as soon as it exceeds it, whether
 * Content-Length says so up front or a chunked body grows past it. */
export async function readBoundedBody(request: Request, limit: number = MAX_BODY_BYTES): Promise<ArrayBuffer> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError();
  if (request.body === null) return new ArrayBuffer(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  const buffer = new ArrayBuffer(size);
  const body = new Uint8Array(buffer);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return buffer;
}

export async function proxyToBackend(request: Request, segments: readonly string[]): Promise<Response> {
  const base = backendBaseUrl();
  if (base === null) return jsonError(503, "BACKEND_URL is not configured on the frontend");

  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set("via", withVia(request.headers.get("via")));
  const method = request.method.toUpperCase();
  let bytes: ArrayBuffer | null = null;
  if (method !== "GET" && method !== "HEAD") {
    try {
      bytes = await readBoundedBody(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return jsonError(413, `request body must be at most ${MAX_BODY_BYTES} bytes`);
      }
      throw error;
    }
  }
  // No body rather than an empty one: Node 18's fetch fails a bodyless DELETE given a 0-byte
  // buffer (content-length mismatch).
  const body = bytes !== null && bytes.byteLength > 0 ? bytes : undefined;

  let upstream: Response;
  try {
    upstream = await fetch(backendTarget(base, segments, new URL(request.url).search), {
      method,
      headers,
      body,
      redirect: "manual",
      cache: "no-store",
      signal: AbortSignal.timeout(backendTimeoutMs()),
    });
  } catch (error) {
    const timedOut = isTimeout(error);
    console.error(
      `proxy: ${method} /api/${segments.join("/")} -> ${base} failed: ${describeFailure(error)}`,
    );
    if (timedOut) return jsonError(504, "The backend did not answer in time");
    return jsonError(502, "The backend is unreachable");
  }

  const responseHeaders = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) responseHeaders.set(name, value);
  }
  responseHeaders.set("via", withVia(upstream.headers.get("via")));
  const responseBody = BODYLESS_STATUSES.has(upstream.status) ? null : await upstream.arrayBuffer();
  return new Response(responseBody, { status: upstream.status, headers: responseHeaders });
}
