import { useState } from 'react';

/** A value shown once (a new token, a report's access key), with a copy button. */
export function Secret({ label, value, note }: { label: string; value: string; note?: string }) {
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is not allowed here: select the text and copy it.');
    }
  };
  return (
    <div className="secret">
      <p className="secret-label">{label}</p>
      <p>
        <code className="secret-value">{value}</code>{' '}
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </p>
      {note ? <p className="hint">{note}</p> : null}
      <p className="status-line" role="status">
        {copied}
      </p>
    </div>
  );
}
