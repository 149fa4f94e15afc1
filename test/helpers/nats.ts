import { connect } from 'nats';

/** The NATS server the suites use (with JetStream). */
export const NATS_URL = process.env.CUSTOS_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** True when NATS answers at NATS_URL with JetStream enabled. */
export async function natsReachable(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 3000, reconnect: false });
    const jetstream = nc.info?.jetstream === true;
    await nc.close();
    return jetstream;
  } catch {
    return false;
  }
}
