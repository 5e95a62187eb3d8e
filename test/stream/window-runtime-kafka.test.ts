/**
 * The windowed runtime scenario (window-scenarios.ts) on the Kafka test broker (scripts/kafka
 * start). Without a broker it is skipped, except under CI (CI=true), where a missing broker fails.
 */
import { kafkaBackend, kafkaGate } from './backends.ts';
import { windowScenarios } from './window-scenarios.ts';

const gate = await kafkaGate();
windowScenarios(kafkaBackend, { skip: gate.skip, gate: gate.check });
