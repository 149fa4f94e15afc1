import { type ReactNode, useEffect, useRef } from 'react';

/** A polite announcement (saved, loaded, …): read out by screen readers, not focused. */
export function StatusLine({ children }: { children?: ReactNode }) {
  return (
    <p className="status-line" role="status">
      {children}
    </p>
  );
}

interface ErrorBoxProps {
  title?: string;
  messages: readonly ReactNode[];
  /** Move focus to the box when it appears (after a failed submit). */
  focus?: boolean;
}

/** Problems with a form or a call, shown at its top and announced. */
export function ErrorBox({ title = 'There is a problem', messages, focus = true }: ErrorBoxProps) {
  const ref = useRef<HTMLDivElement>(null);
  const shown = messages.length > 0;
  useEffect(() => {
    if (shown && focus) ref.current?.focus();
  }, [shown, focus]);
  if (!shown) return null;
  return (
    <div className="error-box" role="alert" tabIndex={-1} ref={ref}>
      <p className="error-title">{title}</p>
      {messages.length === 1 ? (
        <p>{messages[0]}</p>
      ) : (
        <ul>
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** While something loads. */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      {what}…
    </p>
  );
}
