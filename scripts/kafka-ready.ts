/**
 * Waits until a Kafka broker answers metadata requests and lists topics (used by scripts/kafka
 * start: the port opens before the broker has joined its KRaft quorum).
 *
 * Usage: node scripts/kafka-ready.ts HOST:PORT [TIMEOUT_MS]
 */
import { Admin } from '@platformatic/kafka';

const address = process.argv[2] ?? '127.0.0.1:19092';
const timeoutMs = Number(process.argv[3] ?? 60_000);
const deadline = Date.now() + timeoutMs;

/** Tries one metadata round trip; true when the broker answered with itself as a live broker. */
async function ready(): Promise<boolean> {
  const admin = new Admin({ clientId: 'sluice-kafka-ready', bootstrapBrokers: [address], timeout: 2_000, retries: 0 });
  try {
    await admin.listTopics();
    const metadata = await admin.metadata({ topics: [], forceUpdate: true });
    return metadata.brokers.size > 0;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => {});
  }
}

let ok = false;
while (!ok && Date.now() < deadline) {
  ok = await ready();
  if (!ok) await new Promise((resolve) => setTimeout(resolve, 250));
}
if (!ok) {
  console.error(`kafka-ready: no answer from ${address} within ${timeoutMs} ms`);
  process.exit(1);
}
