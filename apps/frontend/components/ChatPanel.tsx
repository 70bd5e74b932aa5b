"use client";

import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";

import { ApiError, type ChatReply, type Session, sendChat, type ToolCall } from "@/lib/api";

/** Used when a 503's Retry-After says 0: still wait a moment before the next try. */
const FALLBACK_RETRY_SECONDS = 5;

interface ChatMessage {
  id: number;
  role: "user" | "assistant";
  text: string;
  tools: string[];
}

interface ChatPanelProps {
  session: Session;
  onError: (error: unknown) => string;
  /** Called after the assistant used a tool, since tools change the task list. */
  onTasksChanged: () => void;
}

function toolName(call: ToolCall): string | null {
  for (const key of ["name", "tool", "tool_name"] as const) {
    const value = call[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return null;
}

const EXAMPLES = ["add a task to buy milk", "what's pending?", "mark buy milk as done"];

export default function ChatPanel({ session, onError, onTasksChanged }: ChatPanelProps) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [conversationId, setConversationId] = useState<ChatReply["conversation_id"] | null>(null);
  const [retryUntil, setRetryUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const nextId = useRef(1);
  const log = useRef<HTMLDivElement>(null);

  // Tick once a second while the assistant is known to be unavailable, for the countdown.
  useEffect(() => {
    if (retryUntil === null) return;
    const timer = window.setInterval(() => {
      const current = Date.now();
      setNow(current);
      if (current >= retryUntil) {
        setRetryUntil(null);
        window.clearInterval(timer);
      }
    }, 1000);
    return () => window.clearInterval(timer);
  }, [retryUntil]);

  // Keep the newest message in view; scrolls the log only, never the page.
  useEffect(() => {
    const element = log.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [messages, sending]);

  const secondsLeft = retryUntil === null ? 0 : Math.max(0, Math.ceil((retryUntil - now) / 1000));
  const waiting = secondsLeft > 0;

  async function send(event?: FormEvent<HTMLFormElement>) {
    event?.preventDefault();
    const text = draft.trim();
    if (text === "" || sending || waiting) return;
    setSending(true);
    setError(null);
    const userMessage: ChatMessage = { id: nextId.current++, role: "user", text, tools: [] };
    setMessages((current) => [...current, userMessage]);
    setDraft("");
    try {
      const reply = await sendChat(session, text, conversationId);
      setConversationId(reply.conversation_id);
      const tools = (reply.tool_calls ?? []).map(toolName).filter((name): name is string => name !== null);
      setMessages((current) => [
        ...current,
        { id: nextId.current++, role: "assistant", text: reply.response, tools },
      ]);
      if ((reply.tool_calls ?? []).length > 0) onTasksChanged();
    } catch (caught) {
      // The message was not answered: take it back out of the log and into the input for a retry.
      setMessages((current) => current.filter((message) => message.id !== userMessage.id));
      setDraft(text);
      if (caught instanceof ApiError && caught.status === 503 && caught.retryAfterSeconds !== null) {
        const seconds = caught.retryAfterSeconds > 0 ? caught.retryAfterSeconds : FALLBACK_RETRY_SECONDS;
        const current = Date.now();
        setNow(current);
        setRetryUntil(current + seconds * 1000);
      } else if (caught instanceof ApiError && caught.kind === "not-found" && conversationId !== null) {
        // The stored conversation is gone (e.g. a new database): the next message starts a new one.
        setConversationId(null);
        setError("That conversation no longer exists. Send again to start a new one.");
      } else {
        setError(onError(caught));
      }
    } finally {
      setSending(false);
    }
  }

  function sendOnEnter(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void send();
    }
  }

  return (
    <section className="card chat" aria-labelledby="chat-heading">
      <div className="section-head">
        <h2 id="chat-heading">Assistant</h2>
        {messages.length > 0 && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setMessages([]);
              setConversationId(null);
            }}
          >
            New conversation
          </button>
        )}
      </div>

      <div className="chat-log" role="log" aria-label="Conversation" ref={log}>
        <ol>
          {messages.length === 0 && (
            <li className="muted chat-empty">
              Ask me to manage your tasks, for example: {EXAMPLES.map((example) => `“${example}”`).join(", ")}.
            </li>
          )}
          {messages.map((message) => (
            <li key={message.id} className={`bubble ${message.role}`}>
              <span className="visually-hidden">{message.role === "user" ? "You:" : "Assistant:"}</span>
              <p>{message.text}</p>
              {message.tools.length > 0 && <p className="tools">Used {message.tools.join(", ")}</p>}
            </li>
          ))}
          {sending && (
            <li className="bubble assistant pending" aria-label="Assistant is typing">
              <p>…</p>
            </li>
          )}
        </ol>
      </div>

      {waiting && (
        <p className="error" role="alert">
          Assistant unavailable, retry in {secondsLeft} s.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <form className="chat-form" onSubmit={send}>
        <label htmlFor="chat-message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="chat-message"
          rows={2}
          value={draft}
          placeholder="Message the assistant…"
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={sendOnEnter}
        />
        <button
          type="submit"
          className="primary"
          aria-busy={sending}
          disabled={sending || waiting || draft.trim() === ""}
        >
          Send
        </button>
      </form>
    </section>
  );
}
