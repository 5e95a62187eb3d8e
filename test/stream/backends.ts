/**
 * Backends of the backend-parameterised stream runtime scenarios: the embedded log (a fresh temp
 * directory per test) and the Kafka test broker (scripts/kafka start). Topic and application names
 * are random per test so that runs on the shared broker never meet. `kafkaGate()` applies the rule
 * of the other Kafka tests: skip locally without a broker, fail under CI=true.
 */
import type { TestContext } from 'node:test';
import { DEFAULT_TEST_BROKER } from '../../src/log/config.ts';
import { openLog } from '../../src/log/index.ts';
import type { Log } from '../../src/log/types.ts';
import { probeKafka, randomTopic, tempDir } from '../helpers.ts';

/** Where a scenario runs. */
export interface StreamBackend {
  readonly name: 'embedded' | 'kafka';
  /** A log for one test, closed (and removed) after it. */
  open(t: TestContext): Promise<Log>;
  /** A name for a topic or an application id, unique per call on this backend. */
  unique(prefix: string): string;
  /** Run options that keep the group protocol quick on this backend. */
  readonly fast: { readonly pollTimeoutMs: number; readonly heartbeatIntervalMs: number; readonly sessionTimeoutMs?: number };
  /** Deadline for waits on group rebalances and outputs. */
  readonly waitMs: number;
}

export const embeddedBackend: StreamBackend = {
  name: 'embedded',
  async open(t) {
    const dir = await tempDir('sluice-stream-');
    const log = await openLog({ backend: 'embedded', dir: dir.path });
    t.after(async () => {
      await log.close();
      await dir.remove();
    });
    return log;
  },
  unique: (prefix) => prefix,
  fast: { pollTimeoutMs: 20, heartbeatIntervalMs: 50 },
  waitMs: 10_000,
};

export const kafkaBackend: StreamBackend = {
  name: 'kafka',
  async open(t) {
    const log = await openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER] });
    t.after(() => log.close());
    return log;
  },
  unique: (prefix) => randomTopic(prefix),
  fast: { pollTimeoutMs: 20, heartbeatIntervalMs: 200, sessionTimeoutMs: 6_000 },
  waitMs: 30_000,
};

/**
 * Whether the Kafka scenarios run: `skip` is the reason to skip (no broker, not CI) or false;
 * `check()` throws under CI=true when no broker answers (call it first in each Kafka test).
 */
export async function kafkaGate(): Promise<{ readonly skip: string | false; check(): void }> {
  const probe = await probeKafka();
  return {
    skip: probe.available ? false : probe.mustFail ? false : probe.message,
    check() {
      if (!probe.available) throw new Error(`${probe.message} (CI=true: the Kafka tests must run)`);
    },
  };
}
