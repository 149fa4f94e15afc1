import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { AuthorityOrder } from '../../api/types.ts';
import { readAsBase64 } from '../../browser/files.ts';
import { Choice, ChoiceGroup, SelectField, TextArea, TextField } from '../../components/Field.tsx';
import { ErrorBox } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { fieldId, placeProblems } from '../../lib/field-errors.ts';
import {
  type OrderFormState,
  type TargetKind,
  emptyOrderForm,
  orderBody,
  orderFieldPointers,
} from '../../lib/order-form.ts';
import { CATEGORIES, DATA_CATEGORIES, LEGAL_STATUSES, ORDER_TYPES } from '../../lib/vocabulary.ts';
import { navigate } from '../../router.tsx';
import { setPortalFlash } from './portal-flash.ts';

const MAX_PDF = 10 * 1024 * 1024;

const TARGET_KINDS: { value: TargetKind; label: string }[] = [
  { value: 'accountId', label: 'Account id' },
  { value: 'username', label: 'Username' },
  { value: 'phone', label: 'Phone number' },
];

/** The order of SPEC.md as a form; the API's problems appear next to the fields they name. */
export function FileOrderPage() {
  const [form, setForm] = useState<OrderFormState>(emptyOrderForm);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [documentNote, setDocumentNote] = useState('');
  const [busy, setBusy] = useState(false);
  const set =
    <K extends keyof OrderFormState>(key: K) =>
    (value: OrderFormState[K]) =>
      setForm((f) => ({ ...f, [key]: value }));
  const p = (pointer: string) => problems[pointer];

  const choosePdf = async (file: File | undefined) => {
    setProblems((x) => ({ ...x, '/courtOrder/documentBase64': [] }));
    if (!file) {
      setForm((f) => ({ ...f, documentBase64: null }));
      setDocumentNote('');
      return;
    }
    if (file.size > MAX_PDF) {
      setForm((f) => ({ ...f, documentBase64: null }));
      setProblems((x) => ({ ...x, '/courtOrder/documentBase64': ['The document is larger than 10 MB.'] }));
      return;
    }
    const base64 = await readAsBase64(file);
    setForm((f) => ({ ...f, documentBase64: base64 }));
    setDocumentNote(`${file.name}, ${Math.ceil(file.size / 1024)} KB, ready to send.`);
  };

  const setTarget = (i: number, patch: Partial<{ kind: TargetKind; value: string }>) =>
    setForm((f) => ({ ...f, targets: f.targets.map((t, j) => (j === i ? { ...t, ...patch } : t)) }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    setBusy(true);
    try {
      const created = await api<AuthorityOrder>('POST', '/v1/legal-requests', { body: orderBody(form) });
      setPortalFlash(
        `Order filed: ${LEGAL_STATUSES[created.status] ?? created.status}.${created.status === 'rejected' ? ' The automatic checks refused it; the reasons are below.' : ''}`,
      );
      navigate(`/portal/orders/${encodeURIComponent(created.id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, orderFieldPointers(form));
        setProblems(placed.byField);
        const count = Object.values(placed.byField).reduce((n, m) => n + m.length, 0);
        setGeneral([
          `${e.message}${count ? ` ${count === 1 ? 'One field needs' : `${count} fields need`} attention; see the messages next to them.` : ''}`,
          ...placed.unplaced.map((u) => u.message),
        ]);
        // Take the person to the first field with a problem.
        const firstField = Object.keys(placed.byField)[0];
        if (firstField)
          requestAnimationFrame(() =>
            document.getElementById(fieldId(firstField))?.scrollIntoView({ block: 'center' }),
          );
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page
      title="File an order"
      lead="Every field mirrors the API's order body. The automatic checks run as soon as it is filed."
    >
      <form className="form order-form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />

        <fieldset className="card">
          <legend>Order</legend>
          <ChoiceGroup pointer="/type" legend="Type" errors={p('/type')}>
            {ORDER_TYPES.map((t) => (
              <Choice
                key={t.code}
                type="radio"
                name="type"
                idBase="f-type"
                value={t.code}
                label={t.label}
                help={t.help}
                checked={form.type === t.code}
                onChange={() => set('type')(t.code)}
              />
            ))}
          </ChoiceGroup>
          <TextField
            pointer="/caseReference"
            label="Your file number"
            value={form.caseReference}
            onValue={set('caseReference')}
            errors={p('/caseReference')}
          />
          <div className="row-fields">
            <TextField
              pointer="/issuingAuthority/name"
              label="Issuing authority"
              value={form.authorityName}
              onValue={set('authorityName')}
              errors={[...(p('/issuingAuthority') ?? []), ...(p('/issuingAuthority/name') ?? [])]}
            />
            <TextField
              pointer="/issuingAuthority/country"
              label="Country"
              hint="Two letters, e.g. DE"
              maxLength={2}
              size={3}
              value={form.authorityCountry}
              onValue={set('authorityCountry')}
              errors={p('/issuingAuthority/country')}
            />
          </div>
          <TextArea
            pointer="/legalBasis"
            label="Legal basis"
            hint="The statute or article relied on."
            rows={2}
            value={form.legalBasis}
            onValue={set('legalBasis')}
            errors={p('/legalBasis')}
          />
          {form.type === 'emergency' ? (
            <TextArea
              pointer="/emergencyJustification"
              label="Emergency justification"
              hint="Why a life is at imminent risk."
              value={form.emergencyJustification}
              onValue={set('emergencyJustification')}
              errors={p('/emergencyJustification')}
            />
          ) : null}
          {form.type === 'production' ? (
            <TextField
              pointer="/preservationRequestId"
              label="Preservation order this follows (optional)"
              hint="The id of your own preservation order for the same data."
              value={form.preservationRequestId}
              onValue={set('preservationRequestId')}
              errors={p('/preservationRequestId')}
            />
          ) : null}
        </fieldset>

        <fieldset className="card">
          <legend>Court order</legend>
          {p('/courtOrder') ? <p className="field-error">{p('/courtOrder')?.join(' ')}</p> : null}
          <div className="row-fields">
            <TextField
              pointer="/courtOrder/reference"
              label="Reference"
              value={form.courtReference}
              onValue={set('courtReference')}
              errors={p('/courtOrder/reference')}
            />
            <TextField
              pointer="/courtOrder/issuedBy"
              label="Issued by"
              value={form.courtIssuedBy}
              onValue={set('courtIssuedBy')}
              errors={p('/courtOrder/issuedBy')}
            />
            <TextField
              pointer="/courtOrder/issuedAt"
              label="Issued at"
              type="datetime-local"
              value={form.courtIssuedAt}
              onValue={set('courtIssuedAt')}
              errors={p('/courtOrder/issuedAt')}
            />
          </div>
          <TextField
            pointer="/courtOrder/documentBase64"
            label="The order as a PDF (optional, at most 10 MB)"
            type="file"
            accept="application/pdf,.pdf"
            hint={documentNote || 'Read in your browser and sent with the order.'}
            onChange={(e) => void choosePdf(e.target.files?.[0])}
            errors={p('/courtOrder/documentBase64')}
          />
        </fieldset>

        <fieldset className="card">
          <legend>Offence</legend>
          {p('/offence') ? <p className="field-error">{p('/offence')?.join(' ')}</p> : null}
          <SelectField
            pointer="/offence/category"
            label="Category"
            value={form.offenceCategory}
            onValue={set('offenceCategory')}
            options={[{ value: '', label: 'Choose…' }, ...CATEGORIES.map((c) => ({ value: c.code, label: c.label }))]}
            errors={p('/offence/category')}
          />
          <TextArea
            pointer="/offence/description"
            label="Description"
            value={form.offenceDescription}
            onValue={set('offenceDescription')}
            errors={p('/offence/description')}
          />
          <TextField
            pointer="/offence/provisions"
            label="Provisions"
            hint="The articles of the criminal code."
            value={form.offenceProvisions}
            onValue={set('offenceProvisions')}
            errors={p('/offence/provisions')}
          />
        </fieldset>

        <fieldset className="card">
          <legend>Targets</legend>
          {p('/targets') ? <p className="field-error">{p('/targets')?.join(' ')}</p> : null}
          <ol className="targets">
            {form.targets.map((t, i) => (
              <li key={i} className="row-fields">
                <SelectField
                  pointer={`/targets/${i}/kind`}
                  label={`Target ${i + 1}: identifier`}
                  value={t.kind}
                  onValue={(v) => setTarget(i, { kind: v as TargetKind })}
                  options={TARGET_KINDS}
                />
                <TextField
                  pointer={`/targets/${i}/${t.kind}`}
                  label={`Target ${i + 1}: ${TARGET_KINDS.find((k) => k.value === t.kind)?.label.toLowerCase()}`}
                  hint={
                    t.kind === 'phone'
                      ? 'International format, +…; numbers without a SIM (+888) are accepted.'
                      : undefined
                  }
                  value={t.value}
                  onValue={(v) => setTarget(i, { value: v })}
                  errors={[...(p(`/targets/${i}`) ?? []), ...(p(`/targets/${i}/${t.kind}`) ?? [])]}
                />
                {form.targets.length > 1 ? (
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setForm((f) => ({ ...f, targets: f.targets.filter((_x, j) => j !== i) }))}
                  >
                    Remove target {i + 1}
                  </button>
                ) : null}
              </li>
            ))}
          </ol>
          <button
            type="button"
            onClick={() => setForm((f) => ({ ...f, targets: [...f.targets, { kind: 'accountId', value: '' }] }))}
          >
            Add a target
          </button>
        </fieldset>

        <fieldset className="card">
          <legend>Data and period</legend>
          <ChoiceGroup
            pointer="/data"
            legend="Data asked for"
            hint="Nothing else can be disclosed: no message content."
            errors={p('/data')}
          >
            {DATA_CATEGORIES.map((d) => (
              <Choice
                key={d.code}
                type="checkbox"
                idBase="f-data"
                value={d.code}
                label={d.label}
                help={d.help}
                checked={form.data.includes(d.code)}
                onChange={(e) =>
                  setForm((f) => ({
                    ...f,
                    data: e.target.checked
                      ? DATA_CATEGORIES.map((x) => x.code).filter((c) => c === d.code || f.data.includes(c))
                      : f.data.filter((c) => c !== d.code),
                  }))
                }
              />
            ))}
          </ChoiceGroup>
          {p('/period') ? <p className="field-error">{p('/period')?.join(' ')}</p> : null}
          <div className="row-fields">
            <TextField
              pointer="/period/from"
              label="Period from"
              type="datetime-local"
              value={form.periodFrom}
              onValue={set('periodFrom')}
              errors={p('/period/from')}
            />
            <TextField
              pointer="/period/to"
              label="Period to"
              type="datetime-local"
              value={form.periodTo}
              onValue={set('periodTo')}
              errors={p('/period/to')}
            />
          </div>
          <TextField
            pointer="/nonDisclosureUntil"
            label="Do not notify the account before (optional)"
            hint="A gag: the account learns of the disclosure only after this date."
            type="datetime-local"
            value={form.nonDisclosureUntil}
            onValue={set('nonDisclosureUntil')}
            errors={p('/nonDisclosureUntil')}
          />
        </fieldset>

        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Filing…' : 'File the order'}
          </button>
        </div>
      </form>
    </Page>
  );
}
