import { useEffect, useRef } from 'react';

export interface ShortcutHelp {
  keys: string;
  what: string;
}

interface HelpDialogProps {
  open: boolean;
  onClose: () => void;
  shortcuts: readonly ShortcutHelp[];
}

/** The keyboard shortcuts of the page, in a modal dialog (Escape or the button closes it). */
export function HelpDialog({ open, onClose, shortcuts }: HelpDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="help" aria-labelledby="help-title" onClose={onClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <dl className="shortcuts">
        {shortcuts.map((s) => (
          <div key={s.keys}>
            <dt>
              {s.keys.split(' ').map((k) => (
                <kbd key={k}>{k}</kbd>
              ))}
            </dt>
            <dd>{s.what}</dd>
          </div>
        ))}
      </dl>
      <p className="hint">Shortcuts do nothing while you type in a field.</p>
      <form method="dialog">
        <button type="submit">Close</button>
      </form>
    </dialog>
  );
}
