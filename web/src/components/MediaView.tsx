import { useEffect, useState } from "react";

import type { Message } from "../api/types";
import { duration, fileSize, mediaBox } from "../format";
import { t } from "../strings";
import { Icon } from "./Icon";

/**
 * A message's file, from the URLs the API gave (never built here). Images and videos reserve
 * their box from the stored size, so nothing jumps when they load; a video or image that fails
 * shows a fallback with a download link instead of a broken element.
 */
export function MediaView({ message }: { message: Message }) {
  const media = message.media;
  if (!media) return null;
  const url = message.local?.previewUrl ?? media.url;
  switch (message.kind) {
    case "image":
    case "sticker":
      return (
        <ImageMedia
          url={url}
          thumbnail={message.local?.previewUrl ?? media.thumbnail_url}
          width={media.width}
          height={media.height}
          name={media.filename}
        />
      );
    case "video":
      return <VideoMedia url={url} poster={media.thumbnail_url} width={media.width} height={media.height} name={media.filename} />;
    case "audio":
    case "voice":
      return (
        <div className="audio">
          <span>
            <Icon name={message.kind === "voice" ? "voice" : "audio"} />{" "}
            {message.kind === "voice" ? t.media.voice : (media.filename ?? t.media.audio)}
          </span>
          <audio controls preload="none" src={url}>
            <a href={url} download>
              {t.media.download}
            </a>
          </audio>
          {media.duration_ms && <span className="duration">{duration(media.duration_ms)}</span>}
        </div>
      );
    default:
      return <FileCard url={url} name={media.filename} size={media.size} />;
  }
}

export function FileCard({ url, name, size }: { url: string; name: string | null; size: number | null }) {
  return (
    <a className="file-card" href={url} download={name ?? true}>
      <span className="file-icon" aria-hidden="true">
        <Icon name="file" />
      </span>
      <span className="file-name">{name ?? t.media.file}</span>
      <span className="file-size">{fileSize(size)}</span>
    </a>
  );
}

export function ImageMedia({
  url,
  thumbnail,
  width,
  height,
  name,
}: {
  url: string;
  thumbnail: string | null;
  width: number | null;
  height: number | null;
  name: string | null;
}) {
  const [open, setOpen] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState(false);
  const box = mediaBox(width, height);
  const src = thumbnail ?? url;
  if (failed) {
    return (
      <div className="media-fallback" style={box}>
        <span>{t.media.cannotShow}</span>
        <a href={url} download={name ?? true}>
          {t.media.download}
        </a>
      </div>
    );
  }
  return (
    <>
      <button type="button" className="image" style={box} onClick={() => setOpen(true)} aria-label={name ?? t.media.photo}>
        <img
          src={attempt > 0 ? `${src}${src.includes("?") ? "&" : "?"}retry=${attempt}` : src}
          alt={name ?? t.media.photo}
          loading="lazy"
          width={box.width}
          height={box.height}
          onError={() => (attempt < 2 ? setTimeout(() => setAttempt((a) => a + 1), 1000 * (attempt + 1)) : setFailed(true))}
        />
      </button>
      {open && <Lightbox url={url} name={name} onClose={() => setOpen(false)} />}
    </>
  );
}

function Lightbox({ url, name, onClose }: { url: string; name: string | null; onClose: () => void }) {
  const [zoom, setZoom] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Esc closes it from the keyboard (the handler above)
    <div className="lightbox" role="dialog" aria-modal="true" aria-label={name ?? t.media.photo} onClick={onClose}>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: zooming is for the pointer; the download link opens the full size */}
      <img
        src={url}
        alt={name ?? t.media.photo}
        className={zoom ? "zoom" : ""}
        onClick={(e) => {
          e.stopPropagation();
          setZoom((z) => !z);
        }}
      />
      {/* biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: only keeps a click on the bar from closing the view */}
      <div className="lightbox-bar" onClick={(e) => e.stopPropagation()}>
        <a href={url} download={name ?? true}>
          {t.media.download}
        </a>
        <button type="button" onClick={onClose}>
          {t.media.close}
        </button>
      </div>
    </div>
  );
}

export function VideoMedia({
  url,
  poster,
  width,
  height,
  name,
}: {
  url: string;
  poster: string | null;
  width: number | null;
  height: number | null;
  name: string | null;
}) {
  const [failed, setFailed] = useState(false);
  const box = mediaBox(width, height);
  if (failed) {
    return (
      <div className="media-fallback" style={box} role="note">
        <span>
          <Icon name="video" /> {t.media.cannotPlay}
        </span>
        <a href={url} download={name ?? true}>
          {t.media.download}
        </a>
      </div>
    );
  }
  return (
    <video
      className="video"
      controls
      preload="none"
      poster={poster ?? undefined}
      width={box.width}
      height={box.height}
      onError={() => setFailed(true)}
    >
      <source src={url} onError={() => setFailed(true)} />
    </video>
  );
}
