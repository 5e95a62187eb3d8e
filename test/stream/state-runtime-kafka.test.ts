/**
 * The state-store runtime scenarios (state-scenarios.ts) on the Kafka test broker
 * (scripts/kafka start). Without a broker they are skipped, except under CI (CI=true), where a
 * missing broker fails.
 */
import { kafkaBackend, kafkaGate } from './backends.ts';
import { stateScenarios } from './state-scenarios.ts';

const gate = await kafkaGate();
stateScenarios(kafkaBackend, { skip: gate.skip, gate: gate.check });
