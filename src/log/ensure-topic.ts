/**
 * Creating a topic unless it exists, for services that own their topics (the stream runtime's
 * internal topics, serving's and training's contract topics, the demo): one place that knows that
 * "already exists" is not an error here, whichever backend answers.
 */
import { ErrorCode, isSluiceError } from '../errors.ts';
import type { Admin, CreateTopicOptions } from './types.ts';

/** Creates `name` with `options` unless it exists; true when this call created it. */
export async function ensureTopic(admin: Admin, name: string, options: CreateTopicOptions = {}): Promise<boolean> {
  try {
    await admin.createTopic(name, options);
    return true;
  } catch (error) {
    if (isSluiceError(error, ErrorCode.LOG_TOPIC_EXISTS)) return false;
    throw error;
  }
}
