/** The runtime metrics scenarios (metrics-scenarios.ts) on the embedded log. */
import { embeddedBackend } from './backends.ts';
import { metricsScenarios } from './metrics-scenarios.ts';

metricsScenarios(embeddedBackend);
