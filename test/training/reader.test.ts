/** Reading a range of telemetry (reader-scenarios.ts) on the embedded log. */
import { embeddedBackend } from '../stream/backends.ts';
import { readerScenarios } from './reader-scenarios.ts';

readerScenarios(embeddedBackend);
