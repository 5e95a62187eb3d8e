/**
 * The window runtime scenario (window-scenarios.ts) on the embedded log: a suppressed tumbling count
 * per device whose application restarts mid-way keeps every window exact.
 */
import { embeddedBackend } from './backends.ts';
import { windowScenarios } from './window-scenarios.ts';

windowScenarios(embeddedBackend);
