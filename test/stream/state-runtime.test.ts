/**
 * The state-store runtime scenarios (state-scenarios.ts) on the embedded log: restore after a
 * restart, state moving between two instances, a stream–table join, a global table.
 */
import { embeddedBackend } from './backends.ts';
import { stateScenarios } from './state-scenarios.ts';

stateScenarios(embeddedBackend);
