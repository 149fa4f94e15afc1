import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError, query } from '../../api/client.ts';
import type { BulkResult, CaseSummary, DecisionBody } from '../../api/types.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { HelpDialog, type ShortcutHelp } from '../../components/HelpDialog.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { VirtualList } from '../../components/VirtualList.tsx';
import { useMediaQuery, useNow, useShortcuts } from '../../components/hooks.ts';
import { ageOf } from '../../lib/time.ts';
import { moveIndex } from '../../lib/windowing.ts';
import { CATEGORIES, categoryLabel } from '../../lib/vocabulary.ts';
import { Link, navigate, setSearch, useLocation } from '../../router.tsx';
import { DecisionForm } from './DecisionForm.tsx';
import { forget, rememberQueue, takeFlash } from './queue-store.ts';

/** The API's largest page; the queue loads pages until it has this many, then offers more. */
const PAGE = 200;
const BATCH = 1000;
/** The bulk route's limit per call. */
const BULK_MAX = 500;

const SHORTCUTS: readonly ShortcutHelp[] = [
  { keys: 'j', what: 'Next case' },
  { keys: 'k', what: 'Previous case' },
  { keys: 'Enter', what: 'Open the selected case (also o)' },
  { keys: 'x', what: 'Select or unselect the case for a bulk decision' },
  { keys: 'c', what: 'Claim the case' },
  { keys: 'b', what: 'Decide the selected cases together' },
  { keys: 'r', what: 'Reload the queue' },
  { keys: '/', what: 'Go to the filters' },
  { keys: '?', what: 'Show this help' },
];

interface Filters {
  status: string;
  queue: string;
  category: string;
  language: string;
}

function filtersOf(search: URLSearchParams): Filters {
  return {
    status: search.get('status') ?? 'open',
    queue: search.get('queue') ?? '',
    category: search.get('category') ?? '',
    language: search.get('language') ?? '',
  };
}

async function fetchCases(filters: Filters, cursor: string | null, want: number, signal: AbortSignal) {
  const cases: CaseSummary[] = [];
  let next = cursor;
  do {
    const page = await api<{ cases: CaseSummary[]; next: string | null }>(
      'GET',
      `/v1/cases${query({ ...filters, limit: PAGE, cursor: next })}`,
      { signal },
    );
    cases.push(...page.cases);
    next = page.next;
  } while (next && cases.length < want);
  return { cases, next };
}

/** The moderation queue: highest priority first, filters, keyboard, bulk decisions. */
export function QueuePage() {
  const location = useLocation();
  const filters = filtersOf(location.search);
  const key = JSON.stringify(filters);
  const [cases, setCases] = useState<CaseSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [active, setActive] = useState(-1);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [help, setHelp] = useState(false);
  const [bulkOpen, setBulkOpen] = useState(false);
  const [status, setStatus] = useState(() => takeFlash());
  const [round, setRound] = useState(0);
  const narrow = useMediaQuery('(max-width: 40rem)');
  const now = useNow();
  const filtersRef = useRef<HTMLFormElement>(null);
  const bulkRef = useRef<HTMLElement>(null);
  const listId = 'queue-list';

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError('');
    fetchCases(filters, null, BATCH, controller.signal).then(
      (r) => {
        setCases(r.cases);
        setNext(r.next);
        setLoading(false);
        // Nothing is active until the first j or k; a reload keeps the place.
        setActive((a) => (a < 0 || r.cases.length === 0 ? -1 : Math.min(a, r.cases.length - 1)));
      },
      (e: unknown) => {
        if (controller.signal.aborted) return;
        setError(describeError(e));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [key, round]);

  useEffect(() => {
    rememberQueue(
      cases.map((c) => c.id),
      window.location.search,
    );
  }, [cases]);

  const loadMore = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const r = await fetchCases(filters, next, BATCH, new AbortController().signal);
      setCases((c) => [...c, ...r.cases]);
      setNext(r.next);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  };

  const focusRow = useCallback((index: number) => {
    // The row is rendered once the list has scrolled to it (next frame).
    requestAnimationFrame(() => {
      document.querySelector<HTMLAnchorElement>(`#${listId} [data-index="${index}"] a.case-link`)?.focus();
    });
  }, []);

  const move = (delta: number) => {
    const i = moveIndex(active, delta, cases.length);
    setActive(i);
    if (i >= 0) focusRow(i);
  };

  const toggle = (id: string) =>
    setSelected((s) => {
      const copy = new Set(s);
      if (copy.has(id)) copy.delete(id);
      else copy.add(id);
      return copy;
    });

  const claim = async (c: CaseSummary) => {
    try {
      const updated = await api<CaseSummary>('POST', `/v1/cases/${encodeURIComponent(c.id)}/claim`);
      setCases((all) => all.map((x) => (x.id === c.id ? updated : x)));
      setStatus(`Claimed case ${c.id}.`);
    } catch (e) {
      setStatus(`Could not claim ${c.id}: ${describeError(e)}`);
    }
  };

  const activeCase = active >= 0 ? cases[active] : undefined;
  useShortcuts({
    j: () => move(1),
    k: () => move(-1),
    Enter: () => activeCase && navigate(`/console/cases/${encodeURIComponent(activeCase.id)}`),
    o: () => activeCase && navigate(`/console/cases/${encodeURIComponent(activeCase.id)}`),
    x: () => activeCase && toggle(activeCase.id),
    c: () => activeCase && void claim(activeCase),
    b: () => {
      if (selected.size === 0) {
        setStatus('Select cases first (x).');
        return;
      }
      setBulkOpen(true);
      requestAnimationFrame(() => bulkRef.current?.querySelector<HTMLElement>('h2')?.focus());
    },
    r: () => setRound((r) => r + 1),
    '/': () => filtersRef.current?.querySelector<HTMLElement>('select, input')?.focus(),
    '?': () => setHelp(true),
  });

  const applyFilters = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const get = (k: string) => String(data.get(k) ?? '').trim() || undefined;
    setSelected(new Set());
    setSearch({ status: get('/status'), queue: get('/queue'), category: get('/category'), language: get('/language') });
  };

  const decideSelected = async (body: DecisionBody) => {
    const ids = cases.filter((c) => selected.has(c.id)).map((c) => c.id);
    const results: BulkResult[] = [];
    for (let i = 0; i < ids.length; i += BULK_MAX) {
      const chunk = ids.slice(i, i + BULK_MAX);
      setStatus(`Deciding cases ${i + 1}–${i + chunk.length} of ${ids.length}…`);
      const r = await api<{ results: BulkResult[] }>('POST', '/v1/cases/bulk-decisions', {
        body: { caseIds: chunk, decision: body },
      });
      results.push(...r.results);
    }
    const done = results.filter((r) => r.status < 300).map((r) => r.caseId);
    const failed = results.filter((r) => r.status >= 300);
    forget(done);
    setCases((all) => all.filter((c) => !done.includes(c.id)));
    setSelected(new Set(failed.map((f) => f.caseId)));
    setStatus(
      `${done.length} decided${failed.length ? `; ${failed.length} not: ${failed.map((f) => `${f.caseId} (${f.error?.message ?? f.status})`).join('; ')}` : '.'}`,
    );
    if (failed.length === 0) setBulkOpen(false);
  };

  const rowHeight = narrow ? 92 : 56;
  const allSelected = cases.length > 0 && selected.size === cases.length;
  const selectedCategories = cases.filter((c) => selected.has(c.id)).map((c) => c.category);
  const commonCategory = selectedCategories[0] ?? 'spam';

  return (
    <Page
      title="Moderation queue"
      lead="Highest priority first. Press ? for the keyboard shortcuts."
      actions={
        <button type="button" onClick={() => setHelp(true)}>
          Shortcuts <kbd>?</kbd>
        </button>
      }
    >
      <form className="filters" ref={filtersRef} onSubmit={applyFilters} aria-label="Filter the queue" key={key}>
        <SelectField
          pointer="/status"
          label="Status"
          defaultValue={filters.status}
          options={[
            { value: 'open', label: 'Open' },
            { value: 'closed', label: 'Closed' },
          ]}
        />
        <TextField pointer="/queue" label="Queue" defaultValue={filters.queue} list="queue-names" placeholder="any" />
        <datalist id="queue-names">
          <option value="main" />
          <option value="restricted" />
        </datalist>
        <SelectField
          pointer="/category"
          label="Category"
          defaultValue={filters.category}
          options={[{ value: '', label: 'Any' }, ...CATEGORIES.map((c) => ({ value: c.code, label: c.label }))]}
        />
        <TextField
          pointer="/language"
          label="Language"
          hint="Code, e.g. en"
          defaultValue={filters.language}
          pattern="[a-z]{2,3}"
          size={4}
        />
        <div className="form-actions">
          <button type="submit">Apply</button>
        </div>
      </form>

      <StatusLine>
        {loading
          ? 'Loading cases…'
          : status ||
            `${cases.length}${next ? '+' : ''} ${cases.length === 1 && !next ? 'case' : 'cases'}${selected.size ? `, ${selected.size} selected` : ''}.`}
      </StatusLine>
      <ErrorBox messages={error ? [error] : []} focus={false} />

      <div className="bulk-bar">
        <label className="choice">
          <input
            type="checkbox"
            checked={allSelected}
            onChange={(e) => setSelected(e.target.checked ? new Set(cases.map((c) => c.id)) : new Set())}
          />{' '}
          Select all {cases.length} shown
        </label>
        {selected.size > 0 ? (
          <>
            <button type="button" className="primary" onClick={() => setBulkOpen(true)}>
              Decide {selected.size} selected <kbd>b</kbd>
            </button>
            <button type="button" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          </>
        ) : null}
      </div>

      {bulkOpen && selected.size > 0 ? (
        <section className="card bulk" ref={bulkRef} aria-labelledby="bulk-title">
          <h2 id="bulk-title" tabIndex={-1}>
            Decide {selected.size} cases alike
          </h2>
          <p className="hint">
            Each case is decided on its own: one failing (claimed by someone else, closed) does not stop the rest.
          </p>
          <DecisionForm
            form="bulk"
            defaultCategory={commonCategory}
            submitLabel={`Decide ${selected.size} cases`}
            onSubmit={decideSelected}
          />
          <button type="button" className="link-button" onClick={() => setBulkOpen(false)}>
            Close without deciding
          </button>
        </section>
      ) : null}

      {loading && cases.length === 0 ? (
        <Loading what="Loading the queue" />
      ) : cases.length === 0 ? (
        <p className="empty">No cases match these filters.</p>
      ) : (
        <div className="queue" id={listId}>
          <div className="queue-head" aria-hidden="true">
            <span />
            <span>Priority</span>
            <span>Case</span>
            <span>Language</span>
            <span>Age</span>
            <span>Reports</span>
            <span>State</span>
          </div>
          <VirtualList
            items={cases}
            rowHeight={rowHeight}
            itemKey={(c) => c.id}
            activeIndex={active}
            label={`Cases, ${cases.length} shown`}
            renderRow={(c, i) => (
              <div className="case-row" data-index={i}>
                <input
                  type="checkbox"
                  aria-label={`Select case ${c.subject.id}`}
                  checked={selected.has(c.id)}
                  onChange={() => toggle(c.id)}
                />
                <span className="prio" title="Priority">
                  <span className="visually-hidden">Priority </span>
                  {Math.round(c.priority)}
                </span>
                <span className="case-main">
                  <Link
                    to={`/console/cases/${encodeURIComponent(c.id)}`}
                    className="case-link"
                    onFocus={() => setActive(i)}
                  >
                    {categoryLabel(c.category)}
                  </Link>
                  <span className="sub">
                    {c.subject.type} {c.subject.id} · queue {c.queue}
                    {c.public ? ' · public' : ''}
                  </span>
                </span>
                <span className="lang">
                  <span className="visually-hidden">Language </span>
                  {c.language ?? '—'}
                </span>
                <span className="age">
                  <span className="visually-hidden">Age </span>
                  {ageOf(c.createdAt, now)} <span className="unit">old</span>
                </span>
                <span className="reports">
                  {c.reportCount} {c.reportCount === 1 ? 'report' : 'reports'}
                  {c.trustedFlagged ? (
                    <span className="badge" title="Reported by a trusted flagger">
                      trusted
                    </span>
                  ) : null}
                </span>
                <span className="state">
                  {c.status === 'closed' ? (
                    <span className="badge">closed</span>
                  ) : c.claim ? (
                    <span className="badge claimed">claimed</span>
                  ) : null}
                  {c.proposedAction ? <span className="badge warn">proposed: {c.proposedAction}</span> : null}
                </span>
              </div>
            )}
          />
          {next ? (
            <button type="button" onClick={() => void loadMore()} disabled={loading}>
              Load more cases
            </button>
          ) : null}
        </div>
      )}
      <HelpDialog open={help} onClose={() => setHelp(false)} shortcuts={SHORTCUTS} />
    </Page>
  );
}
