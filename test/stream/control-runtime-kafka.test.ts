/**
 * The control-stream runtime scenarios (control-scenarios.ts) on the Kafka test broker
 * (scripts/kafka start). Without a broker they are skipped, except under CI (CI=true), where a
 * missing broker fails.
 */
import { kafkaBackend, kafkaGate } from './backends.ts';
import { controlScenarios } from './control-scenarios.ts';

const gate = await kafkaGate();
controlScenarios(kafkaBackend, { skip: gate.skip, gate: gate.check });
