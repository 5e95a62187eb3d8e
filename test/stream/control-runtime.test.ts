/**
 * The control-stream runtime scenarios (control-scenarios.ts) on the embedded log: ordering across
 * two instances, replay to a joining instance, exactly-once, bad control records.
 */
import { embeddedBackend } from './backends.ts';
import { controlScenarios } from './control-scenarios.ts';

controlScenarios(embeddedBackend);
