/**
 * Runs the log conformance suite against the Kafka backend on the repo's test broker
 * (scripts/kafka start). Without a broker the suite is skipped, except under CI (CI=true), where a
 * missing broker fails.
 */
import { test } from 'node:test';
import { DEFAULT_TEST_BROKER } from '../../src/log/config.ts';
import { openLog } from '../../src/log/index.ts';
import { probeKafka } from '../helpers.ts';
import { runConformance } from './conformance.ts';

const probe = await probeKafka();

if (!probe.available && probe.mustFail) {
  test('log conformance: kafka', () => {
    throw new Error(`${probe.message} (CI=true: the Kafka conformance suite must run)`);
  });
} else {
  runConformance('kafka', () => openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER] }), probe.available ? {} : { skip: probe.message });
}
