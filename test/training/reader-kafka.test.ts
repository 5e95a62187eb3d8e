/**
 * Reading a range of telemetry (reader-scenarios.ts) on the Kafka test broker (scripts/kafka
 * start). Without a broker they are skipped, except under CI (CI=true), where a missing broker fails.
 */
import { kafkaBackend, kafkaGate } from '../stream/backends.ts';
import { readerScenarios } from './reader-scenarios.ts';

const gate = await kafkaGate();
readerScenarios(kafkaBackend, { skip: gate.skip, gate: gate.check });
