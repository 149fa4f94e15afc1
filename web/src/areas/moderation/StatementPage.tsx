import { Fragment } from 'react';
import { api, describeError } from '../../api/client.ts';
import type { Decision, DecisionStatement, SessionUser } from '../../api/types.ts';
import { ErrorBox, Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useResource } from '../../components/hooks.ts';
import { actionLabel, categoryLabel } from '../../lib/vocabulary.ts';
import { Link } from '../../router.tsx';

/** The Transparency Database's fields in the order a reader needs them, each named in words. */
const FIELDS: readonly (readonly [string, string])[] = [
  ['decision_ground', 'Decision ground'],
  ['illegal_content_legal_ground', 'Legal ground'],
  ['illegal_content_explanation', 'Why the content is illegal'],
  ['incompatible_content_ground', 'Ground in the terms of service'],
  ['incompatible_content_explanation', 'Why it breaks the terms'],
  ['incompatible_content_illegal', 'Also considered illegal'],
  ['category', 'Category'],
  ['decision_visibility', 'Restriction of the content'],
  ['decision_visibility_other', 'Other restriction of the content'],
  ['end_date_visibility_restriction', 'Content restricted until'],
  ['decision_account', 'Restriction of the account'],
  ['decision_provision', 'Restriction of the service'],
  ['end_date_account_restriction', 'Account restricted until'],
  ['decision_monetary', 'Monetary restriction'],
  ['decision_facts', 'Facts and circumstances'],
  ['source_type', 'Source of the information'],
  ['automated_detection', 'Automated detection'],
  ['automated_decision', 'Automated decision'],
  ['content_type', 'Content type'],
  ['content_type_other', 'Other content type'],
  ['content_language', 'Content language'],
  ['content_date', 'Content date'],
  ['application_date', 'Decision applied on'],
  ['account_type', 'Account type'],
  ['territorial_scope', 'Territorial scope'],
  ['puid', 'Platform’s unique id'],
];

const ENUM_PREFIXES = [
  'DECISION_GROUND_',
  'DECISION_VISIBILITY_',
  'DECISION_ACCOUNT_',
  'DECISION_PROVISION_',
  'DECISION_MONETARY_',
  'AUTOMATED_DECISION_',
  'ACCOUNT_TYPE_',
  'CONTENT_TYPE_',
  'STATEMENT_CATEGORY_',
  'SOURCE_',
];

/** `DECISION_VISIBILITY_CONTENT_REMOVED` → "Content removed"; other values as they are. */
function plain(value: string): string | null {
  const prefix = ENUM_PREFIXES.find((p) => value.startsWith(p));
  if (!prefix) return null;
  const words = value.slice(prefix.length).toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function Value({ field, value }: { field: string; value: unknown }) {
  if (Array.isArray(value)) {
    if (field === 'territorial_scope') return <>{value.join(', ')}</>;
    return (
      <ul className="plain-list">
        {value.map((v) => (
          <li key={String(v)}>
            <Value field={field} value={v} />
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value !== 'string') return <code>{JSON.stringify(value)}</code>;
  const words = plain(value);
  if (!words) return <>{value}</>;
  return (
    <>
      {words} <code className="sub">{value}</code>
    </>
  );
}

/**
 * The DSA statement of reasons of one decision, as sent to the affected account
 * and the EU Transparency Database (GET /v1/decisions/:id/statement).
 */
export function StatementPage({ id, user }: { id: string; user: SessionUser }) {
  const key = encodeURIComponent(id);
  const decision = useResource(`decision:${id}`, (signal) => api<Decision>('GET', `/v1/decisions/${key}`, { signal }));
  const statement = useResource(`statement:${id}`, (signal) =>
    api<DecisionStatement>('GET', `/v1/decisions/${key}/statement`, { signal }),
  );
  const d = decision.data;
  const s = statement.data?.statement;
  const known = new Set(FIELDS.map(([f]) => f));
  const rows = s
    ? [
        ...FIELDS.filter(([f]) => s[f] !== undefined && s[f] !== null),
        ...Object.keys(s)
          .filter((f) => !known.has(f))
          .map((f) => [f, f] as const),
      ]
    : [];

  return (
    <Page
      title="Statement of reasons"
      lead={
        <>
          The reasons given to the account for decision {id}, in the fields of the EU DSA Transparency Database. It
          never names the reporter.
        </>
      }
      // An auditor reads statements but not cases.
      actions={
        d && user.role !== 'auditor' ? (
          <Link to={`/console/cases/${encodeURIComponent(d.caseId)}`}>Back to the case</Link>
        ) : null
      }
    >
      {d ? (
        <p>
          <strong>Decision:</strong> {d.actions.map((a) => actionLabel(a.type)).join(', ')} ·{' '}
          {categoryLabel(d.category)} · {d.ground} · {d.status}
        </p>
      ) : null}
      {statement.loading && !statement.data ? (
        <Loading what="Loading the statement" />
      ) : statement.error || !s ? (
        <ErrorBox messages={[describeError(statement.error)]} />
      ) : (
        <section className="card" aria-labelledby="statement-title">
          <h2 id="statement-title">Statement</h2>
          <dl className="facts">
            {rows.map(([field, label]) => (
              <Fragment key={field}>
                <dt>
                  {label}
                  <span className="sub">
                    <code>{field}</code>
                  </span>
                </dt>
                <dd>
                  <Value field={field} value={s[field]} />
                </dd>
              </Fragment>
            ))}
          </dl>
          <p className="hint">Policy version {statement.data?.policyVersion}.</p>
        </section>
      )}
    </Page>
  );
}
