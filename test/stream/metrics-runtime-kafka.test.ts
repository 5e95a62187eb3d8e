/**
 * The runtime metrics scenarios (metrics-scenarios.ts) on the Kafka test broker (scripts/kafka
 * start). Without a broker they are skipped, except under CI (CI=true), where a missing broker fails.
 */
import { kafkaBackend, kafkaGate } from './backends.ts';
import { metricsScenarios } from './metrics-scenarios.ts';

const gate = await kafkaGate();
metricsScenarios(kafkaBackend, { skip: gate.skip, gate: gate.check });
