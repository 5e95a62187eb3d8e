/** The serving scenarios on the Kafka test broker (skipped without one, except under CI=true). */
import { kafkaBackend, kafkaGate } from '../stream/backends.ts';
import { servingScenarios } from './service-scenarios.ts';

const gate = await kafkaGate();
servingScenarios(kafkaBackend, { skip: gate.skip, gate: () => gate.check(), exactlyOnce: true });
