// Liveness/readiness of the frontend process itself; deliberately independent of the backend,
// so a backend outage never restarts frontend pods.
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ status: "ok", service: "frontend" }, { headers: { "Cache-Control": "no-store" } });
}
