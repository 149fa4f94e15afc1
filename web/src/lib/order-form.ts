/**
 * The authority portal's filing form as the body of `POST /v1/legal-requests`
 * (SPEC.md, "The legal order body"). Every input is named by the JSON pointer of
 * the field it fills, so the API's 422 problems land next to it.
 */
import { localInputToIso } from './time.ts';

export type TargetKind = 'accountId' | 'username' | 'phone';

export interface OrderTargetInput {
  kind: TargetKind;
  value: string;
}

export interface OrderFormState {
  type: string;
  caseReference: string;
  authorityName: string;
  authorityCountry: string;
  legalBasis: string;
  courtReference: string;
  courtIssuedBy: string;
  /** `datetime-local` value. */
  courtIssuedAt: string;
  /** The PDF read as base64, or null. */
  documentBase64: string | null;
  offenceCategory: string;
  offenceDescription: string;
  offenceProvisions: string;
  targets: OrderTargetInput[];
  data: string[];
  periodFrom: string;
  periodTo: string;
  nonDisclosureUntil: string;
  emergencyJustification: string;
  preservationRequestId: string;
}

export function emptyOrderForm(): OrderFormState {
  return {
    type: 'production',
    caseReference: '',
    authorityName: '',
    authorityCountry: '',
    legalBasis: '',
    courtReference: '',
    courtIssuedBy: '',
    courtIssuedAt: '',
    documentBase64: null,
    offenceCategory: '',
    offenceDescription: '',
    offenceProvisions: '',
    targets: [{ kind: 'accountId', value: '' }],
    data: ['ip_addresses', 'phone_number'],
    periodFrom: '',
    periodTo: '',
    nonDisclosureUntil: '',
    emergencyJustification: '',
    preservationRequestId: '',
  };
}

/**
 * The request body. Mandatory fields are sent even when empty, so the API names
 * them in its answer; optional ones are left out when blank. Dates are the
 * inputs' local times as RFC 3339 (an unreadable date is sent as typed, for the
 * API to refuse at its pointer).
 */
export function orderBody(form: OrderFormState): Record<string, unknown> {
  const time = (v: string) => localInputToIso(v) || v;
  const body: Record<string, unknown> = {
    type: form.type,
    caseReference: form.caseReference.trim(),
    issuingAuthority: { name: form.authorityName.trim(), country: form.authorityCountry.trim().toUpperCase() },
    legalBasis: form.legalBasis.trim(),
    courtOrder: {
      reference: form.courtReference.trim(),
      issuedBy: form.courtIssuedBy.trim(),
      issuedAt: time(form.courtIssuedAt),
      ...(form.documentBase64 ? { documentBase64: form.documentBase64 } : {}),
    },
    offence: {
      category: form.offenceCategory,
      description: form.offenceDescription.trim(),
      provisions: form.offenceProvisions.trim(),
    },
    targets: form.targets.map((t) => ({ [t.kind]: t.value.trim() })),
    data: [...form.data],
    period: { from: time(form.periodFrom), to: time(form.periodTo) },
  };
  if (form.nonDisclosureUntil) body.nonDisclosureUntil = time(form.nonDisclosureUntil);
  // Left out when blank: the API then names it among the order's other problems, where an
  // empty string would be refused by the schema alone, before the other checks run.
  if (form.type === 'emergency' && form.emergencyJustification.trim()) {
    body.emergencyJustification = form.emergencyJustification.trim();
  }
  if (form.type === 'production' && form.preservationRequestId.trim()) {
    body.preservationRequestId = form.preservationRequestId.trim();
  }
  return body;
}

/** The pointers of the fields the form shows for this state (where the API's problems may land). */
export function orderFieldPointers(form: OrderFormState): string[] {
  const fields = [
    '/type',
    '/caseReference',
    '/issuingAuthority',
    '/issuingAuthority/name',
    '/issuingAuthority/country',
    '/legalBasis',
    '/courtOrder',
    '/courtOrder/reference',
    '/courtOrder/issuedBy',
    '/courtOrder/issuedAt',
    '/courtOrder/documentBase64',
    '/offence',
    '/offence/category',
    '/offence/description',
    '/offence/provisions',
    '/targets',
    '/data',
    '/period',
    '/period/from',
    '/period/to',
    '/nonDisclosureUntil',
  ];
  for (const [i, t] of form.targets.entries()) fields.push(`/targets/${i}`, `/targets/${i}/${t.kind}`);
  if (form.type === 'emergency') fields.push('/emergencyJustification');
  if (form.type === 'production') fields.push('/preservationRequestId');
  return fields;
}
