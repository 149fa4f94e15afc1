import type { Check } from '../api/types.ts';
import { checkLabel, reasonText } from '../lib/vocabulary.ts';

const RESULT_WORDS: Record<string, string> = { pass: 'Passed', fail: 'Failed', review: 'Needs review' };

/**
 * The automatic checks of an order, each green (passed), red (failed) or amber
 * (needs review), with its reason code explained in words. Colour is never the
 * only sign: each says its result in text and with a symbol.
 */
export function ChecksList({ checks, targetLabel }: { checks: Check[]; targetLabel?: (position: number) => string }) {
  if (checks.length === 0) return <p>No checks recorded.</p>;
  return (
    <ul className="checks">
      {checks.map((c, i) => (
        <li key={i} className={`check ${c.result}`}>
          <span className="check-mark" aria-hidden="true">
            {c.result === 'pass' ? '✓' : c.result === 'fail' ? '✗' : '!'}
          </span>
          <span className="check-body">
            <span className="check-name">
              {checkLabel(c.name)}
              {c.target !== null ? ` — ${targetLabel ? targetLabel(c.target) : `target ${c.target + 1}`}` : ''}:{' '}
              <strong>{RESULT_WORDS[c.result] ?? c.result}</strong>
            </span>
            {c.code ? (
              <span className="check-reason">
                <code>{c.code}</code> {reasonText(c.code)}
              </span>
            ) : null}
            {c.detail ? <span className="check-detail">{c.detail}</span> : null}
          </span>
        </li>
      ))}
    </ul>
  );
}
