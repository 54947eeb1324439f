import { useQueryClient } from "@tanstack/react-query";
import { type ClipboardEvent, type DragEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";

import { api } from "../api/client";
import type { Bundle, Conversation, Manager, Message } from "../api/types";
import { addNote, keys } from "../state/cache";
import { useDraft } from "../state/drafts";
import { useSend } from "../state/send";
import { t } from "../strings";
import { fitHeight } from "./Editor";
import { EmojiPicker } from "./EmojiPicker";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";

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

  const { sendText, sendFile } = useSend(conversation, me, replyTo);

  function submit() {
    const body = text.trim();
    setError(null);
    if (noteMode) {
      if (!body) return;
      run(api.addNote(conversation.id, body), (note) => addNote(qc, note));
    } else if (file) {
      void sendFile(file, body);
      setFile(null);
    } else if (body) {
      sendText(body);
    } else {
      return;
    }
    setText("");
    clearReply();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
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
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={(e: ClipboardEvent) => takeFile(e.clipboardData.files)}
        />
        <button type="button" className="send" onClick={submit}>
          {t.send}
        </button>
      </div>
    </div>
  );
}
