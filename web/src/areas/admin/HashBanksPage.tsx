import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { HashBank, HashesAdded } from '../../api/types.ts';
import { SelectField, TextArea, TextField } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { fieldSentence, placeProblems, pointerTokens, problemsOf } from '../../lib/field-errors.ts';
import { formatTime } from '../../lib/time.ts';
import {
  BANK_ACTIONS,
  CATEGORIES,
  DEFAULT_PDQ_THRESHOLD,
  HASH_KINDS,
  MAX_PDQ_THRESHOLD,
  categoryLabel,
} from '../../lib/vocabulary.ts';

const actionLabel = (code: string) => BANK_ACTIONS.find((a) => a.code === code)?.label ?? code;

/**
 * Hash banks: the lists of known images uploads are matched against. List,
 * create, and add hashes pasted one a line (large lists go through
 * `custos hashes import`).
 */
export function HashBanksPage() {
  const banks = useResource('hash-banks', (signal) => api<{ banks: HashBank[] }>('GET', '/v1/hash-banks', { signal }));
  const [status, setStatus] = useState('');
  const list = banks.data?.banks ?? [];

  return (
    <Page
      title="Hash banks"
      lead="Known images uploads are matched against: a match is queued for review or removed, as the bank says. Changes reach every scanner within seconds."
    >
      <StatusLine>{status}</StatusLine>
      {banks.loading && !banks.data ? (
        <Loading />
      ) : banks.error ? (
        <ErrorBox messages={[describeError(banks.error)]} />
      ) : list.length === 0 ? (
        <p className="empty">No hash banks yet.</p>
      ) : (
        <TableWrap label="Hash banks">
          <table className="stack-on-phone">
            <caption className="visually-hidden">Hash banks</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Category</th>
                <th scope="col">On a match</th>
                <th scope="col">Threshold</th>
                <th scope="col">Hashes</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {list.map((b) => (
                <tr key={b.id}>
                  <td data-label="Name">
                    {b.name}
                    <span className="sub">{b.id}</span>
                  </td>
                  <td data-label="Category">{categoryLabel(b.category)}</td>
                  <td data-label="On a match">{actionLabel(b.action)}</td>
                  <td data-label="Threshold">{b.threshold} bits</td>
                  <td data-label="Hashes">{b.hashes}</td>
                  <td data-label="Created">{formatTime(b.createdAt)}</td>
                  <td data-label="State">
                    <span className={`badge ${b.enabled ? 'ok' : 'danger'}`}>{b.enabled ? 'enabled' : 'disabled'}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <CreateBank
        onCreated={(b) => {
          setStatus(`Hash bank “${b.name}” created.`);
          banks.reload();
        }}
      />
      {list.length > 0 ? (
        <AddHashes
          banks={list}
          onAdded={(r) => {
            setStatus(
              `${r.inserted} hash${r.inserted === 1 ? '' : 'es'} added to “${r.bank}”` +
                (r.alreadyPresent ? `, ${r.alreadyPresent} already there` : '') +
                (r.repeated ? `, ${r.repeated} repeated in the list` : '') +
                '.',
            );
            banks.reload();
          }}
        />
      ) : null}
    </Page>
  );
}

const CREATE_FIELDS = ['/name', '/category', '/action', '/threshold'];

function CreateBank({ onCreated }: { onCreated: (b: HashBank) => void }) {
  const [name, setName] = useState('');
  const [category, setCategory] = useState('');
  const [action, setAction] = useState('review');
  const [threshold, setThreshold] = useState(String(DEFAULT_PDQ_THRESHOLD));
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    if (!category) {
      setProblems({ '/category': ['Choose the category of what the bank holds.'] });
      setGeneral(['The bank needs a category.']);
      return;
    }
    setBusy(true);
    try {
      const b = await api<HashBank>('POST', '/v1/hash-banks', {
        body: {
          name: name.trim(),
          category,
          action,
          ...(threshold.trim() === '' ? {} : { threshold: Number(threshold) }),
        },
      });
      onCreated(b);
      setName('');
      setCategory('');
      setAction('review');
      setThreshold(String(DEFAULT_PDQ_THRESHOLD));
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, CREATE_FIELDS);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="create-bank-title">
      <h2 id="create-bank-title">Create a hash bank</h2>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />
        <div className="row-fields">
          <TextField
            pointer="/name"
            form="bank"
            label="Name"
            hint="Lower-case letters, digits, . _ and -; at most 64, e.g. ncmec-2026"
            value={name}
            onValue={setName}
            spellCheck={false}
            autoComplete="off"
            errors={problems['/name']}
          />
          <SelectField
            pointer="/category"
            form="bank"
            label="Category"
            value={category}
            onValue={setCategory}
            options={[{ value: '', label: 'Choose…' }, ...CATEGORIES.map((c) => ({ value: c.code, label: c.label }))]}
            errors={problems['/category']}
          />
        </div>
        <div className="row-fields">
          <SelectField
            pointer="/action"
            form="bank"
            label="On a match"
            hint={BANK_ACTIONS.find((a) => a.code === action)?.help}
            value={action}
            onValue={setAction}
            options={BANK_ACTIONS.map((a) => ({ value: a.code, label: a.label }))}
            errors={problems['/action']}
          />
          <TextField
            pointer="/threshold"
            form="bank"
            label="PDQ threshold (bits)"
            hint={`Largest distance that still matches: 0 to ${MAX_PDQ_THRESHOLD}, usually ${DEFAULT_PDQ_THRESHOLD}.`}
            type="number"
            inputMode="numeric"
            min={0}
            max={MAX_PDQ_THRESHOLD}
            value={threshold}
            onValue={setThreshold}
            size={4}
            errors={problems['/threshold']}
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create bank'}
          </button>
        </div>
      </form>
    </section>
  );
}

function AddHashes({ banks, onAdded }: { banks: HashBank[]; onAdded: (r: HashesAdded) => void }) {
  const [bank, setBank] = useState(banks[0]?.name ?? '');
  const [kind, setKind] = useState<string>('pdq');
  const [text, setText] = useState('');
  const [source, setSource] = useState('');
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const chosen = banks.some((b) => b.name === bank) ? bank : (banks[0]?.name ?? '');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    // One hash a line; blank lines and # comments are skipped, as in `custos hashes import`.
    const lines = text.split(/\r?\n/).map((l, i) => ({ value: l.trim(), line: i + 1 }));
    const given = lines.filter((l) => l.value !== '' && !l.value.startsWith('#'));
    if (given.length === 0) {
      setProblems({ '/hashes': ['Paste at least one hash.'] });
      setGeneral(['There are no hashes to add.']);
      return;
    }
    setBusy(true);
    try {
      const r = await api<HashesAdded>('POST', `/v1/hash-banks/${encodeURIComponent(chosen)}/hashes`, {
        body: {
          hashes: given.map((g) => ({ kind, value: g.value })),
          ...(source.trim() ? { source: source.trim() } : {}),
        },
      });
      onAdded(r);
      setText('');
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        // The API names a bad hash by its index in the list; people know it by its line.
        const byLine: string[] = [];
        const rest = problemsOf(e.details).filter((p) => {
          const [field, index] = pointerTokens(p.path);
          const line = field === 'hashes' && index !== undefined ? given[Number(index)]?.line : undefined;
          if (line === undefined) return true;
          byLine.push(`Line ${line}: ${fieldSentence(p.message)}`);
          return false;
        });
        const placed = placeProblems(rest, ['/hashes', '/source']);
        setProblems({ ...placed.byField, '/hashes': [...byLine, ...(placed.byField['/hashes'] ?? [])] });
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="add-hashes-title">
      <h2 id="add-hashes-title">Add hashes</h2>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />
        <div className="row-fields">
          <SelectField
            pointer="/bank"
            form="add"
            label="Bank"
            value={chosen}
            onValue={setBank}
            options={banks.map((b) => ({ value: b.name, label: b.name }))}
          />
          <SelectField
            pointer="/kind"
            form="add"
            label="Kind of hash"
            value={kind}
            onValue={setKind}
            options={HASH_KINDS.map((k) => ({ value: k, label: k === 'sha256' ? 'SHA-256' : k.toUpperCase() }))}
          />
        </div>
        <TextArea
          pointer="/hashes"
          form="add"
          label="Hashes, one a line"
          hint="Hexadecimal (a PDQ hash has 64 digits, MD5 32, SHA-256 64). Blank lines and lines starting with # are skipped. Any bad line refuses the whole list."
          value={text}
          onValue={setText}
          rows={6}
          spellCheck={false}
          className="mono"
          errors={problems['/hashes']?.length ? problems['/hashes'] : undefined}
        />
        <TextField
          pointer="/source"
          form="add"
          label="Where they come from (optional)"
          hint="Kept with each hash, e.g. the list's file name."
          value={source}
          onValue={setSource}
          errors={problems['/source']}
        />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || !chosen}>
            {busy ? 'Adding…' : 'Add hashes'}
          </button>
        </div>
      </form>
    </section>
  );
}
