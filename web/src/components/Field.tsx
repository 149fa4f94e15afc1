/**
 * Labelled form controls. Each is named by the JSON pointer of the API field it
 * fills (`/courtOrder/issuedAt`), so the API's 422 problems are shown under it,
 * tied to it with aria-describedby.
 */
import type {
  ChangeEvent,
  InputHTMLAttributes,
  ReactNode,
  Ref,
  SelectHTMLAttributes,
  TextareaHTMLAttributes,
} from 'react';
import { fieldId } from '../lib/field-errors.ts';

interface Common {
  pointer: string;
  label: ReactNode;
  hint?: ReactNode;
  errors?: readonly string[];
  /** Id prefix, when a page has two forms naming the same field. */
  form?: string;
}

function describe(id: string, hint: ReactNode | undefined, errors: readonly string[] | undefined) {
  const ids = [hint ? `${id}-hint` : '', errors?.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  return {
    'aria-describedby': ids || undefined,
    'aria-invalid': errors?.length ? (true as const) : undefined,
  };
}

function Messages({ id, hint, errors }: { id: string; hint?: ReactNode; errors?: readonly string[] }) {
  return (
    <>
      {hint ? (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {errors?.length ? (
        <span className="field-error" id={`${id}-error`}>
          {errors.join(' ')}
        </span>
      ) : null}
    </>
  );
}

type InputProps = Common &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'form'> & {
    onValue?: (value: string) => void;
    ref?: Ref<HTMLInputElement>;
  };

export function TextField({ pointer, label, hint, errors, form, onValue, onChange, className, ...input }: InputProps) {
  const id = fieldId(pointer, form ?? 'f');
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={pointer}
        {...describe(id, hint, errors)}
        onChange={(e: ChangeEvent<HTMLInputElement>) => {
          onValue?.(e.target.value);
          onChange?.(e);
        }}
        {...input}
      />
      <Messages id={id} hint={hint} errors={errors} />
    </div>
  );
}

type AreaProps = Common &
  Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'onChange' | 'form'> & { onValue?: (value: string) => void };

export function TextArea({ pointer, label, hint, errors, form, onValue, className, ...area }: AreaProps) {
  const id = fieldId(pointer, form ?? 'f');
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        name={pointer}
        rows={4}
        {...describe(id, hint, errors)}
        onChange={(e) => onValue?.(e.target.value)}
        {...area}
      />
      <Messages id={id} hint={hint} errors={errors} />
    </div>
  );
}

type SelectProps = Common &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, 'onChange' | 'form'> & {
    onValue?: (value: string) => void;
    options: readonly { value: string; label: string }[];
  };

export function SelectField({
  pointer,
  label,
  hint,
  errors,
  form,
  onValue,
  options,
  className,
  ...select
}: SelectProps) {
  const id = fieldId(pointer, form ?? 'f');
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={pointer}
        {...describe(id, hint, errors)}
        onChange={(e) => onValue?.(e.target.value)}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Messages id={id} hint={hint} errors={errors} />
    </div>
  );
}

interface ChoiceGroupProps {
  pointer: string;
  legend: ReactNode;
  hint?: ReactNode;
  errors?: readonly string[];
  form?: string;
  children: ReactNode;
  className?: string;
}

/** A fieldset of checkboxes or radios with its legend, hint and problems. */
export function ChoiceGroup({ pointer, legend, hint, errors, form, children, className }: ChoiceGroupProps) {
  const id = fieldId(pointer, form ?? 'f');
  return (
    <fieldset id={id} className={`choices ${className ?? ''}`} {...describe(id, hint, errors)}>
      <legend>{legend}</legend>
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {children}
      {errors?.length ? (
        <p className="field-error" id={`${id}-error`}>
          {errors.join(' ')}
        </p>
      ) : null}
    </fieldset>
  );
}

interface ChoiceProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> {
  type: 'checkbox' | 'radio';
  label: ReactNode;
  help?: ReactNode;
  idBase: string;
}

/** One checkbox or radio with its label (and a line of help under it). */
export function Choice({ type, label, help, idBase, value, ...input }: ChoiceProps) {
  const id = `${idBase}-${String(value ?? '').replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <div className="choice">
      <input type={type} id={id} value={value} aria-describedby={help ? `${id}-help` : undefined} {...input} />
      <label htmlFor={id}>
        {label}
        {help ? (
          <span className="hint" id={`${id}-help`}>
            {help}
          </span>
        ) : null}
      </label>
    </div>
  );
}
