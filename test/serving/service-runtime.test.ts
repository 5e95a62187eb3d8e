/** The serving scenarios on the embedded log (service-scenarios.ts). */
import { embeddedBackend } from '../stream/backends.ts';
import { servingScenarios } from './service-scenarios.ts';

servingScenarios(embeddedBackend, { exactlyOnce: true });
