"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";

import Dashboard from "@/components/Dashboard";
import type { Session } from "@/lib/api";
import { clearSession, loadSession, setNotice } from "@/lib/session";

export default function HomePage() {
  const router = useRouter();
  const [session, setSession] = useState<Session | null>(null);

  useEffect(() => {
    const stored = loadSession();
    if (stored === null) router.replace("/login");
    else setSession(stored);
  }, [router]);

  const endSession = useCallback(
    (notice?: string) => {
      clearSession();
      if (notice) setNotice(notice);
      setSession(null);
      router.replace("/login");
    },
    [router],
  );

  if (session === null) {
    return (
      <main className="centered" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  return <Dashboard session={session} onSessionEnd={endSession} />;
}
