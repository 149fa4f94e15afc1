import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError, query } from '../../api/client.ts';
import type { CreatedWebhook, WebhookDelivery, WebhookEndpoint } from '../../api/types.ts';
import { Choice, ChoiceGroup, SelectField, TextField } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { Secret } from '../../components/Secret.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { placeProblems } from '../../lib/field-errors.ts';
import { formatTime } from '../../lib/time.ts';
import { DELIVERY_STATUSES, WEBHOOK_EVENTS } from '../../lib/vocabulary.ts';
import { setSearch, useLocation } from '../../router.tsx';

const LIMIT = 100;
const STATUSES = Object.keys(DELIVERY_STATUSES);

/** The outbox by status; "all" merges the three lists, newest first. */
async function loadDeliveries(status: string, signal: AbortSignal): Promise<WebhookDelivery[]> {
  const wanted = status === 'all' ? STATUSES : [status];
  const lists = await Promise.all(
    wanted.map((s) =>
      api<{ deliveries: WebhookDelivery[] }>('GET', `/v1/webhooks/deliveries${query({ status: s, limit: LIMIT })}`, {
        signal,
      }),
    ),
  );
  return lists
    .flatMap((l) => l.deliveries)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, LIMIT);
}

/** Where the platform receives enforcement events: endpoints (create, disable) and the state of recent deliveries. */
export function WebhooksPage() {
  const status = useLocation().search.get('status') ?? 'all';
  const endpoints = useResource('webhooks', (signal) =>
    api<{ endpoints: WebhookEndpoint[] }>('GET', '/v1/webhooks', { signal }),
  );
  const deliveries = useResource(status, (signal) => loadDeliveries(status, signal));
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState('');
  const urls = new Map((endpoints.data?.endpoints ?? []).map((e) => [e.id, e.url]));

  const disable = async (e: WebhookEndpoint) => {
    try {
      await api('POST', `/v1/webhooks/${encodeURIComponent(e.id)}/deactivate`);
      setNote(`Endpoint ${e.url} disabled; it receives no new events.`);
      setConfirming('');
      endpoints.reload();
    } catch (error) {
      setNote(describeError(error));
    }
  };

  return (
    <Page
      title="Webhooks"
      lead="Where the platform receives enforcement events, signed with the endpoint’s secret, and how their delivery stands. Failed deliveries are retried with backoff and given up after about two days."
      actions={
        <button type="button" onClick={() => deliveries.reload()}>
          Refresh deliveries
        </button>
      }
    >
      <StatusLine>{note}</StatusLine>
      <section className="card" aria-labelledby="endpoints-title">
        <h2 id="endpoints-title">Endpoints</h2>
        {endpoints.loading && !endpoints.data ? (
          <Loading />
        ) : endpoints.error ? (
          <ErrorBox messages={[describeError(endpoints.error)]} />
        ) : endpoints.data?.endpoints.length === 0 ? (
          <p className="empty">No endpoints yet: the platform receives no events.</p>
        ) : (
          <TableWrap label="Webhook endpoints">
            <table className="stack-on-phone">
              <caption className="visually-hidden">Webhook endpoints</caption>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Created</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {endpoints.data?.endpoints.map((e) => (
                  <tr key={e.id}>
                    <td data-label="URL">
                      <code>{e.url}</code>
                      <span className="sub">{e.id}</span>
                    </td>
                    <td data-label="Events">{e.events.includes('*') ? 'all events' : e.events.join(', ')}</td>
                    <td data-label="Created">{formatTime(e.createdAt)}</td>
                    <td data-label="State">
                      {!e.active ? (
                        <span className="badge">disabled</span>
                      ) : confirming === e.id ? (
                        <span className="button-row">
                          <button type="button" className="danger" onClick={() => void disable(e)}>
                            Confirm: disable {e.url}
                          </button>
                          <button type="button" onClick={() => setConfirming('')}>
                            Keep
                          </button>
                        </span>
                      ) : (
                        <>
                          <span className="badge ok">active</span>{' '}
                          <button type="button" onClick={() => setConfirming(e.id)}>
                            Disable…
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      <section className="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Recent deliveries</h2>
        <form className="filters" aria-label="Filter deliveries" onSubmit={(e) => e.preventDefault()}>
          <SelectField
            pointer="/status"
            form="deliveries"
            label="Status"
            value={status}
            onValue={(v) => setSearch({ status: v === 'all' ? undefined : v })}
            options={[
              { value: 'all', label: 'All' },
              ...STATUSES.map((s) => ({ value: s, label: DELIVERY_STATUSES[s] as string })),
            ]}
          />
        </form>
        {deliveries.loading && !deliveries.data ? (
          <Loading what="Loading deliveries" />
        ) : deliveries.error ? (
          <ErrorBox messages={[describeError(deliveries.error)]} />
        ) : deliveries.data?.length === 0 ? (
          <p className="empty">No deliveries{status === 'all' ? '' : ` ${DELIVERY_STATUSES[status] ?? status}`}.</p>
        ) : (
          <TableWrap label="Webhook deliveries, newest first">
            <table className="stack-on-phone">
              <caption className="visually-hidden">Webhook deliveries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data?.map((d) => (
                  <tr key={d.id}>
                    <td data-label="Event">
                      <code>{d.type}</code>
                      <span className="sub">{d.id}</span>
                    </td>
                    <td data-label="Endpoint">{urls.get(d.endpointId) ?? d.endpointId}</td>
                    <td data-label="Status">
                      <span
                        className={`badge ${d.status === 'delivered' ? 'ok' : d.status === 'dead' ? 'danger' : 'warn'}`}
                      >
                        {DELIVERY_STATUSES[d.status] ?? d.status}
                      </span>
                      <span className="sub">
                        {d.status === 'delivered'
                          ? `at ${formatTime(d.deliveredAt)}`
                          : d.status === 'pending'
                            ? `next try ${formatTime(d.nextAttemptAt)}`
                            : ''}
                      </span>
                    </td>
                    <td data-label="Attempts">{d.attempts}</td>
                    <td data-label="Last error">{d.lastError ?? '—'}</td>
                    <td data-label="Created">{formatTime(d.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      <CreateEndpoint onCreated={() => endpoints.reload()} />
    </Page>
  );
}

function CreateEndpoint({ onCreated }: { onCreated: () => void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);

  const toggle = (event: string, on: boolean) =>
    setEvents((list) => (on ? [...list, event] : list.filter((e) => e !== event)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    setCreated(null);
    try {
      const r = await api<CreatedWebhook>('POST', '/v1/webhooks', {
        body: { url: url.trim(), ...(events.length ? { events } : {}) },
      });
      setCreated(r);
      setUrl('');
      setEvents([]);
      onCreated();
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, ['/url', '/events']);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    }
  };

  return (
    <section className="card" aria-labelledby="create-webhook-title">
      <h2 id="create-webhook-title">Add an endpoint</h2>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />
        <TextField
          pointer="/url"
          form="webhook"
          label="URL"
          hint="An http(s) address of the platform that accepts POST requests."
          type="url"
          value={url}
          onValue={setUrl}
          errors={problems['/url']}
        />
        <ChoiceGroup
          pointer="/events"
          form="webhook"
          legend="Events"
          hint="None chosen: every event, including those added later."
          errors={problems['/events']}
          className="inline"
        >
          {WEBHOOK_EVENTS.map((e) => (
            <Choice
              key={e}
              type="checkbox"
              idBase="webhook-event"
              value={e}
              label={<code>{e}</code>}
              checked={events.includes(e)}
              onChange={(ev) => toggle(e, ev.currentTarget.checked)}
            />
          ))}
        </ChoiceGroup>
        <div className="form-actions">
          <button type="submit" className="primary">
            Add endpoint
          </button>
        </div>
      </form>
      {created ? (
        <Secret
          label={`The signing secret of ${created.endpoint.url}`}
          value={created.secret}
          note="Shown once: the platform checks each request’s signature with it."
        />
      ) : null}
    </section>
  );
}
