import { useQueryClient } from "@tanstack/react-query";
import { type ClipboardEvent, type DragEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";

import { api } from "../api/client";
import type { Bundle, Conversation, Manager, Message, QuickReply, QuickReplyFile } from "../api/types";
import { addNote, keys } from "../state/cache";
import { useDraft } from "../state/drafts";
import { useQuickReplies } from "../state/hooks";
import { matching, slashQuery } from "../state/quickReplies";
import { useSend } from "../state/send";
import { t } from "../strings";
import { fitHeight } from "./Editor";
import { EmojiPicker } from "./EmojiPicker";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";
import { QuickReplyPicker } from "./QuickReplyPicker";

interface Props {
  conversation: Conversation;
  me: Manager;
  replyTo: Message | null;
  clearReply: () => void;
}

export function Composer({ conversation, me, replyTo, clearReply }: Props) {
  const qc = useQueryClient();
  const [text, setText] = useState(() => qc.getQueryData<Bundle>(keys.bundle(conversation.id))?.draft ?? "");
  const [file, setFile] = useState<File | null>(null);
  const [noteMode, setNoteMode] = useState(false);
  // A quick reply filled in: its files go with the text, and what it has no value for is said.
  const [stored, setStored] = useState<QuickReplyFile[]>([]);
  // The server's names of what has no value here, and those variables as they are in the text.
  const [missing, setMissing] = useState<{ names: string[]; left: string[] }>({ names: [], left: [] });
  const [active, setActive] = useState(0);
  const [closed, setClosed] = useState<string | null>(null);
  const [filling, setFilling] = useState(false);
  const unfilled = missing.left.some((token) => text.includes(token));
  const query = noteMode ? null : slashQuery(text);
  const open = query !== null && closed !== text;
  const quick = useQuickReplies(query !== null);
  const options = open ? matching(quick.data?.items ?? [], query ?? "") : [];
  const { error, setError, run } = useActionError();
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  useDraft(qc, conversation.id, text);
  // The box grows with its text up to eight lines (CSS caps it).
  // biome-ignore lint/correctness/useExhaustiveDependencies: the height follows the text
  useLayoutEffect(() => fitHeight(input.current), [text]);
  useEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  // An emoji goes where the caret is (or replaces the selection), and the caret after it.
  function insert(emoji: string) {
    const box = input.current;
    const start = box?.selectionStart ?? text.length;
    const end = box?.selectionEnd ?? text.length;
    setText(text.slice(0, start) + emoji + text.slice(end));
    requestAnimationFrame(() => {
      box?.focus();
      box?.setSelectionRange(start + emoji.length, start + emoji.length);
    });
  }

  const { sendFile, sendQuickReply } = useSend(conversation, me, replyTo);

  function submit() {
    const body = text.trim();
    setError(null);
    // The list is open ("/pri" is a search, not a reply) or a quick reply is being filled in.
    if (open || filling) return;
    if (noteMode) {
      if (!body) return;
      run(api.addNote(conversation.id, body), (note) => addNote(qc, note));
    } else if (unfilled) {
      // What the server said has no value is still there: it would refuse it (never a blank).
      setError(t.quick.missing(missing.names));
      return;
    } else if (stored.length > 0 || (body && !file)) {
      // The quick reply's files first (the text the first one's caption), then a file of the
      // manager's own, if they attached one too.
      const own = file;
      void sendQuickReply(body, stored).then(async (all) => {
        if (all && own) await sendFile(own, "");
      });
      setFile(null);
    } else if (file) {
      void sendFile(file, body);
      setFile(null);
    } else {
      return;
    }
    setText("");
    setStored([]);
    setMissing({ names: [], left: [] });
    clearReply();
  }

  /** Fill the composer with a quick reply as the server fills it in for this conversation. */
  function pick(r: QuickReply) {
    setClosed(text);
    setFilling(true);
    run(
      api.fillIn(conversation.id, r.id).finally(() => setFilling(false)),
      (filled) => {
        setText(filled.text);
        setStored(filled.files);
        setMissing({ names: filled.missing, left: filled.left });
        requestAnimationFrame(() => input.current?.focus());
      },
    );
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open && !e.nativeEvent.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      const move = e.key === "ArrowDown" ? 1 : e.key === "ArrowUp" ? -1 : 0;
      if (move && options.length > 0) {
        e.preventDefault();
        e.stopPropagation();
        setActive((i) => (i + move + options.length) % options.length);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        setClosed(text);
        return;
      }
      const chosen = options[Math.min(active, options.length - 1)];
      if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && chosen) {
        e.preventDefault();
        pick(chosen);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function takeFile(files: FileList | null | undefined) {
    const f = files?.[0];
    if (f) setFile(f);
  }

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop target for dragged files; the attach button does the same from the keyboard
    <div
      className={`composer${noteMode ? " note-mode" : ""}`}
      onDragOver={(e: DragEvent) => e.preventDefault()}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        takeFile(e.dataTransfer.files);
      }}
    >
      {replyTo && (
        <div className="reply-bar">
          <span>
            {t.replyingTo} <strong>{replyTo.sender.name ?? t.you}</strong>: {replyTo.body ?? replyTo.media?.filename}
          </span>
          <button type="button" className="icon-button" onClick={clearReply} aria-label={t.cancel}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {open && (
        <QuickReplyPicker
          items={options}
          active={Math.min(active, Math.max(options.length - 1, 0))}
          loading={quick.isPending}
          pick={pick}
          hover={setActive}
        />
      )}
      {stored.map((f) => (
        <div key={f.id} className="attachment-preview" data-quick-file={f.filename}>
          <span>
            <Icon name="attach" /> {f.filename}
          </span>
          <button
            type="button"
            className="icon-button"
            onClick={() => setStored(stored.filter((x) => x.id !== f.id))}
            aria-label={t.quick.removeFile(f.filename)}
          >
            <Icon name="close" />
          </button>
        </div>
      ))}
      {unfilled && (
        <p className="quick-missing" role="status">
          {t.quick.missing(missing.names)}
        </p>
      )}
      {file && (
        <div className="attachment-preview">
          <span>
            <Icon name="attach" /> {file.name}
          </span>
          <button type="button" className="icon-button" onClick={() => setFile(null)} aria-label={t.cancel}>
            <Icon name="close" />
          </button>
        </div>
      )}
      <ErrorLine error={error} />
      <div className="composer-row">
        <label className="note-toggle">
          <input type="checkbox" checked={noteMode} onChange={(e) => setNoteMode(e.target.checked)} />
          {t.note}
        </label>
        <button type="button" className="icon-button" onClick={() => picker.current?.click()} aria-label={t.attach} disabled={noteMode}>
          <Icon name="attach" />
        </button>
        <EmojiPicker onPick={insert} />
        <input
          ref={picker}
          type="file"
          hidden
          onChange={(e) => {
            takeFile(e.target.files);
            e.target.value = "";
          }}
        />
        <textarea
          ref={input}
          rows={1}
          value={text}
          placeholder={noteMode ? t.composerNote : file ? t.caption : t.composer}
          aria-label={t.composer}
          onChange={(e) => {
            setText(e.target.value);
            setActive(0);
            if (!e.target.value) {
              // An emptied box starts again: the quick reply's files are not sent with what
              // comes next.
              setMissing({ names: [], left: [] });
              setStored([]);
            }
          }}
          onKeyDown={onKeyDown}
          aria-controls={open ? "quick-replies" : undefined}
          aria-activedescendant={open && options.length > 0 ? `quick-${options[Math.min(active, options.length - 1)]?.id}` : undefined}
          onPaste={(e: ClipboardEvent) => takeFile(e.clipboardData.files)}
        />
        <button type="button" className="send" onClick={submit}>
          {t.send}
        </button>
      </div>
    </div>
  );
}
