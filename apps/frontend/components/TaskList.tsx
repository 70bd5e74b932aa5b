"use client";

import { type FormEvent, useState } from "react";

import TaskItem from "@/components/TaskItem";
import {
  createTask,
  deleteTask,
  DESCRIPTION_MAX,
  type Session,
  type Task,
  TITLE_MAX,
  toggleTaskComplete,
  updateTask,
} from "@/lib/api";

type Filter = "all" | "pending" | "completed";

const FILTERS: { value: Filter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

interface TaskListProps {
  session: Session;
  tasks: Task[] | null;
  loading: boolean;
  loadError: string | null;
  onRetryLoad: () => void;
  /** Turns an error into a message (and ends the session on 401). */
  onError: (error: unknown) => string;
  onCreated: (task: Task) => void;
  onUpdated: (task: Task) => void;
  onDeleted: (id: Task["id"]) => void;
}

export default function TaskList(props: TaskListProps) {
  const { session, tasks, loading, loadError, onRetryLoad, onError, onCreated, onUpdated, onDeleted } = props;
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [adding, setAdding] = useState(false);
  const [addError, setAddError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [busyIds, setBusyIds] = useState<ReadonlySet<Task["id"]>>(new Set());
  const [filter, setFilter] = useState<Filter>("all");

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = title.trim();
    if (trimmed === "") {
      setAddError("Give the task a title.");
      return;
    }
    setAdding(true);
    setAddError(null);
    try {
      const created = await createTask(session, { title: trimmed, description: description.trim() });
      onCreated(created);
      setTitle("");
      setDescription("");
      setStatus(`Added “${created.title}”.`);
    } catch (error) {
      setAddError(onError(error));
    } finally {
      setAdding(false);
    }
  }

  /** Runs one action on one task, marking it busy meanwhile; returns whether it succeeded. */
  async function act(id: Task["id"], action: () => Promise<void>): Promise<boolean> {
    setBusyIds((current) => new Set(current).add(id));
    setActionError(null);
    try {
      await action();
      return true;
    } catch (error) {
      setActionError(onError(error));
      return false;
    } finally {
      setBusyIds((current) => {
        const next = new Set(current);
        next.delete(id);
        return next;
      });
    }
  }

  const toggle = (task: Task) =>
    act(task.id, async () => {
      const updated = await toggleTaskComplete(session, task.id);
      onUpdated(updated);
      setStatus(updated.completed ? `Completed “${updated.title}”.` : `Reopened “${updated.title}”.`);
    });

  const save = (task: Task, input: { title: string; description: string }) =>
    act(task.id, async () => {
      const updated = await updateTask(session, task.id, input);
      onUpdated(updated);
      setStatus(`Saved “${updated.title}”.`);
    });

  const remove = (task: Task) =>
    act(task.id, async () => {
      await deleteTask(session, task.id);
      onDeleted(task.id);
      setStatus(`Deleted “${task.title}”.`);
    });

  const visible = (tasks ?? []).filter((task) =>
    filter === "all" ? true : filter === "completed" ? task.completed : !task.completed,
  );
  const pendingCount = (tasks ?? []).filter((task) => !task.completed).length;

  return (
    <section className="card tasks" aria-labelledby="tasks-heading">
      <div className="section-head">
        <h1 id="tasks-heading">Tasks</h1>
        {tasks !== null && (
          <p className="muted" aria-live="polite">
            {pendingCount} pending · {tasks.length - pendingCount} completed
          </p>
        )}
      </div>

      <form className="add-task" onSubmit={add} aria-label="Add a task">
        <label htmlFor="new-task-title">New task title</label>
        <input
          id="new-task-title"
          value={title}
          maxLength={TITLE_MAX}
          placeholder="What needs doing?"
          onChange={(event) => setTitle(event.target.value)}
        />
        <label htmlFor="new-task-description">New task description (optional)</label>
        <textarea
          id="new-task-description"
          value={description}
          maxLength={DESCRIPTION_MAX}
          rows={2}
          placeholder="Details, links, notes"
          onChange={(event) => setDescription(event.target.value)}
        />
        {addError && (
          <p className="error" role="alert">
            {addError}
          </p>
        )}
        <button type="submit" className="primary" disabled={adding}>
          {adding ? "Adding…" : "Add task"}
        </button>
      </form>

      <div className="filters" role="group" aria-label="Show tasks">
        {FILTERS.map((option) => (
          <button
            key={option.value}
            type="button"
            aria-pressed={filter === option.value}
            onClick={() => setFilter(option.value)}
          >
            {option.label}
          </button>
        ))}
      </div>

      <p className="visually-hidden" role="status">
        {status}
      </p>
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      {loadError && (
        <div className="error banner" role="alert">
          <p>{loadError}</p>
          <button type="button" onClick={onRetryLoad} disabled={loading}>
            {loading ? "Retrying…" : "Retry"}
          </button>
        </div>
      )}

      {tasks === null && !loadError && <p className="muted">Loading tasks…</p>}
      {tasks !== null && visible.length === 0 && (
        <p className="muted empty">
          {tasks.length === 0 ? "No tasks yet. Add one above, or ask the assistant." : `No ${filter} tasks.`}
        </p>
      )}
      {visible.length > 0 && (
        <ul className="task-list" aria-label="Task list">
          {visible.map((task) => (
            <TaskItem
              key={task.id}
              task={task}
              busy={busyIds.has(task.id)}
              onToggle={() => toggle(task)}
              onSave={(input) => save(task, input)}
              onDelete={() => remove(task)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
