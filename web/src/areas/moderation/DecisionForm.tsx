import { type FormEvent, useState } from 'react';
import { ApiError, describeError } from '../../api/client.ts';
import type { DecisionBody } from '../../api/types.ts';
import { ChoiceGroup, Choice, SelectField, TextArea, TextField } from '../../components/Field.tsx';
import { ErrorBox } from '../../components/Messages.tsx';
import { useShortcuts } from '../../components/hooks.ts';
import { placeProblems } from '../../lib/field-errors.ts';
import { isoToLocalInput, localInputToIso } from '../../lib/time.ts';
import { ACTIONS, CATEGORIES } from '../../lib/vocabulary.ts';
import { DECISION_TEMPLATES, type DecisionTemplate } from './templates.ts';

interface DecisionFormProps {
  defaultCategory: string;
  /** The case has an image: offer to add its hash to the local bank on removal. */
  hasImage?: boolean;
  submitLabel: string;
  /** Sends the decision; an `ApiError` thrown here is shown on the form. */
  onSubmit: (body: DecisionBody) => Promise<void>;
  /** Keys 1–5 apply the templates (the case page; not the bulk form beside the queue). */
  templateKeys?: boolean;
  /** Id prefix, so two forms on one page keep distinct ids. */
  form: string;
}

const DAY = 86_400_000;

/**
 * A moderator's decision: one or more actions, the category, the ground and the
 * explanation the account will read; templates fill it in one click.
 */
export function DecisionForm({
  defaultCategory,
  hasImage,
  submitLabel,
  onSubmit,
  templateKeys,
  form,
}: DecisionFormProps) {
  const [actions, setActions] = useState<string[]>([]);
  const [until, setUntil] = useState('');
  const [category, setCategory] = useState(defaultCategory);
  const [ground, setGround] = useState<'illegal' | 'terms'>('terms');
  const [legalGround, setLegalGround] = useState('');
  const [explanation, setExplanation] = useState('');
  const [addToBank, setAddToBank] = useState(true);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [applied, setApplied] = useState('');

  const apply = (t: DecisionTemplate) => {
    setActions(t.actions.map((a) => a.type));
    const days = t.actions.find((a) => a.days)?.days;
    setUntil(days ? isoToLocalInput(new Date(Date.now() + days * DAY).toISOString()) : '');
    setCategory(t.category ?? defaultCategory);
    setGround(t.ground);
    setExplanation(t.explanation);
    setApplied(`Template applied: ${t.label}. Check it and decide.`);
    setProblems({});
    setGeneral([]);
  };

  useShortcuts(
    Object.fromEntries(DECISION_TEMPLATES.map((t, i) => [String(i + 1), () => apply(t)])),
    Boolean(templateKeys),
  );

  const toggle = (code: string, on: boolean) => {
    if (code === 'dismiss') setActions(on ? ['dismiss'] : []);
    else
      setActions((current) =>
        on ? [...current.filter((a) => a !== 'dismiss'), code] : current.filter((a) => a !== code),
      );
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    if (actions.length === 0) {
      setProblems({ '/actions': ['Choose at least one action (or Dismiss).'] });
      setGeneral(['Choose at least one action (or Dismiss).']);
      return;
    }
    const body: DecisionBody = {
      // The order of the list, not of the clicks: what the statement of reasons shows.
      actions: ACTIONS.filter((a) => actions.includes(a.code)).map((a) =>
        a.code === 'suspend_account' ? { type: a.code, until: localInputToIso(until) || until } : { type: a.code },
      ),
      category,
      ground,
      explanation: explanation.trim(),
      ...(ground === 'illegal' && legalGround.trim() ? { legalGround: legalGround.trim() } : {}),
      ...(hasImage && actions.includes('remove_content') ? { addToLocalBank: addToBank } : {}),
    };
    setBusy(true);
    try {
      await onSubmit(body);
    } catch (error) {
      if (error instanceof ApiError && error.details) {
        const suspendAt = body.actions.findIndex((a) => a.type === 'suspend_account');
        const fields = ['/actions', '/category', '/ground', '/explanation', '/legalGround'];
        const placed = placeProblems(error.details, fields);
        // The until input stands for /actions/<its position>/until.
        if (suspendAt >= 0) {
          const key = `/actions/${suspendAt}/until`;
          const own = placeProblems(error.details, [key]).byField[key];
          if (own) {
            placed.byField['/until'] = own;
            if (placed.byField['/actions']) {
              placed.byField['/actions'] = placed.byField['/actions'].filter((m) => !m.includes('until'));
            }
          }
        }
        setProblems(placed.byField);
        setGeneral([error.message, ...placed.unplaced.map((u) => u.message)]);
      } else {
        setGeneral([describeError(error)]);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="decision form" onSubmit={submit} noValidate>
      <ErrorBox messages={general} />
      <fieldset className="templates">
        <legend className="templates-label">Templates</legend>
        {DECISION_TEMPLATES.map((t, i) => (
          <button
            key={t.label}
            type="button"
            className="chip"
            aria-keyshortcuts={templateKeys ? String(i + 1) : undefined}
            onClick={() => apply(t)}
          >
            {templateKeys ? <kbd>{i + 1}</kbd> : null} {t.label}
          </button>
        ))}
      </fieldset>
      <p className="status-line" role="status">
        {applied}
      </p>
      <ChoiceGroup pointer="/actions" form={form} legend="Actions" errors={problems['/actions']}>
        <div className="choice-grid">
          {ACTIONS.map((a) => (
            <Choice
              key={a.code}
              type="checkbox"
              idBase={`${form}-action`}
              value={a.code}
              label={a.label}
              help={a.help}
              checked={actions.includes(a.code)}
              onChange={(e) => toggle(a.code, e.target.checked)}
            />
          ))}
        </div>
      </ChoiceGroup>
      {actions.includes('suspend_account') ? (
        <TextField
          pointer="/until"
          form={form}
          label="Suspended until"
          type="datetime-local"
          value={until}
          onValue={setUntil}
          errors={problems['/until']}
        />
      ) : null}
      <div className="row-fields">
        <SelectField
          pointer="/category"
          form={form}
          label="Category"
          value={category}
          onValue={setCategory}
          options={CATEGORIES.map((c) => ({ value: c.code, label: c.label }))}
          errors={problems['/category']}
        />
        <ChoiceGroup pointer="/ground" form={form} legend="Ground" errors={problems['/ground']} className="inline">
          <Choice
            type="radio"
            name={`${form}-ground`}
            idBase={`${form}-ground`}
            value="terms"
            label="Against our terms"
            checked={ground === 'terms'}
            onChange={() => setGround('terms')}
          />
          <Choice
            type="radio"
            name={`${form}-ground`}
            idBase={`${form}-ground`}
            value="illegal"
            label="Illegal content"
            checked={ground === 'illegal'}
            onChange={() => setGround('illegal')}
          />
        </ChoiceGroup>
      </div>
      {ground === 'illegal' ? (
        <TextField
          pointer="/legalGround"
          form={form}
          label="Law relied on (optional)"
          hint="The statute or article, for the statement of reasons."
          value={legalGround}
          onValue={setLegalGround}
          errors={problems['/legalGround']}
        />
      ) : null}
      <TextArea
        pointer="/explanation"
        form={form}
        label="Explanation"
        hint={`Facts and reasons; the account reads this. At least 10 characters (${explanation.trim().length} now).`}
        value={explanation}
        onValue={setExplanation}
        maxLength={5000}
        errors={problems['/explanation']}
      />
      {hasImage && actions.includes('remove_content') ? (
        <Choice
          type="checkbox"
          idBase={`${form}-bank`}
          value="local"
          label="Add the image’s hash to the local-confirmed bank, so a re-upload is caught"
          checked={addToBank}
          onChange={(e) => setAddToBank(e.target.checked)}
        />
      ) : null}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Deciding…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
