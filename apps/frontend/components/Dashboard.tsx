"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import ChatPanel from "@/components/ChatPanel";
import TaskList from "@/components/TaskList";
import { ApiError, listTasks, type Session, type Task } from "@/lib/api";

interface DashboardProps {
  session: Session;
  onSessionEnd: (notice?: string) => void;
}

/** Newest first; ties (same timestamp) by id so the order never jumps between reloads. */
function sortTasks(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => {
    const byDate = Date.parse(b.created_at) - Date.parse(a.created_at);
    if (!Number.isNaN(byDate) && byDate !== 0) return byDate;
    return String(b.id).localeCompare(String(a.id), undefined, { numeric: true });
  });
}

export default function Dashboard({ session, onSessionEnd }: DashboardProps) {
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const loadSeq = useRef(0);

  const onError = useCallback(
    (error: unknown): string => {
      if (error instanceof ApiError && error.kind === "unauthorized") {
        onSessionEnd("Your session has ended. Please log in again.");
        return error.message;
      }
      return error instanceof ApiError ? error.message : "Something went wrong. Try again.";
    },
    [onSessionEnd],
  );

  const refresh = useCallback(async () => {
    const seq = ++loadSeq.current;
    setLoading(true);
    try {
      const list = await listTasks(session);
      if (seq !== loadSeq.current) return;
      setTasks(sortTasks(list));
      setLoadError(null);
    } catch (error) {
      if (seq !== loadSeq.current) return;
      setLoadError(onError(error));
    } finally {
      if (seq === loadSeq.current) setLoading(false);
    }
  }, [session, onError]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const replaceTask = useCallback((updated: Task) => {
    setTasks((current) => (current ?? []).map((task) => (task.id === updated.id ? updated : task)));
  }, []);
  const addTask = useCallback((created: Task) => {
    setTasks((current) => sortTasks([created, ...(current ?? [])]));
  }, []);
  const removeTask = useCallback((id: Task["id"]) => {
    setTasks((current) => (current ?? []).filter((task) => task.id !== id));
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <p className="brand">Taskflow</p>
        <div className="account">
          <span className="muted">
            Signed in as <strong>{session.email}</strong>
          </span>
          <button type="button" onClick={() => onSessionEnd()}>
            Log out
          </button>
        </div>
      </header>
      <main className="columns">
        <TaskList
          session={session}
          tasks={tasks}
          loading={loading}
          loadError={loadError}
          onRetryLoad={refresh}
          onError={onError}
          onCreated={addTask}
          onUpdated={replaceTask}
          onDeleted={removeTask}
        />
        <ChatPanel session={session} onError={onError} onTasksChanged={refresh} />
      </main>
    </div>
  );
}
