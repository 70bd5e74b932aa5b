"use client";

import { type FormEvent, type KeyboardEvent, useState } from "react";

import { DESCRIPTION_MAX, type Task, type TaskInput, TITLE_MAX } from "@/lib/api";

interface TaskItemProps {
  task: Task;
  busy: boolean;
  onToggle: () => Promise<boolean>;
  onSave: (input: TaskInput) => Promise<boolean>;
  onDelete: () => Promise<boolean>;
}

function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export default function TaskItem({ task, busy, onToggle, onSave, onDelete }: TaskItemProps) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? "");
  const [error, setError] = useState<string | null>(null);
  const checkboxId = `task-${task.id}-done`;

  function startEditing() {
    setTitle(task.title);
    setDescription(task.description ?? "");
    setError(null);
    setEditing(true);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = title.trim();
    if (trimmed === "") {
      setError("The title cannot be empty.");
      return;
    }
    if (await onSave({ title: trimmed, description: description.trim() })) setEditing(false);
  }

  function cancelOnEscape(event: KeyboardEvent<HTMLFormElement>) {
    if (event.key === "Escape") setEditing(false);
  }

  if (editing) {
    return (
      <li className="task editing">
        <form onSubmit={submit} onKeyDown={cancelOnEscape} aria-label={`Edit task ${task.title}`}>
          <label htmlFor={`task-${task.id}-title`}>Title</label>
          <input
            id={`task-${task.id}-title`}
            value={title}
            maxLength={TITLE_MAX}
            autoFocus
            onChange={(event) => setTitle(event.target.value)}
          />
          <label htmlFor={`task-${task.id}-description`}>Description</label>
          <textarea
            id={`task-${task.id}-description`}
            value={description}
            maxLength={DESCRIPTION_MAX}
            rows={2}
            onChange={(event) => setDescription(event.target.value)}
          />
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <div className="task-actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className={task.completed ? "task done" : "task"} aria-busy={busy}>
      <input
        id={checkboxId}
        type="checkbox"
        checked={task.completed}
        disabled={busy}
        onChange={() => void onToggle()}
      />
      <div className="task-text">
        <label htmlFor={checkboxId} className="task-title">
          {task.title}
        </label>
        {task.description && <p className="task-description">{task.description}</p>}
        <p className="task-meta muted">
          {task.completed ? "Completed" : "Added"} {formatDate(task.completed ? task.updated_at : task.created_at)}
        </p>
      </div>
      <div className="task-actions">
        <button type="button" aria-label={`Edit ${task.title}`} disabled={busy} onClick={startEditing}>
          Edit
        </button>
        <button
          type="button"
          className="danger"
          aria-label={`Delete ${task.title}`}
          disabled={busy}
          onClick={() => void onDelete()}
        >
          Delete
        </button>
      </div>
    </li>
  );
}
