/**
 * Publishing a model per the serving contract: the model store first, then the `models` topic
 * (key: the model name, UTF-8; value: the stored descriptor as UTF-8 JSON). A serving instance that
 * sees the descriptor can therefore always load its payload from the store (a payload too large to
 * travel inline is a `file:` reference into the store).
 */
import { ErrorCode, SluiceError, isSluiceError } from '../errors.ts';
import { ensureTopic, type Log, type Producer } from '../log/index.ts';
import type { ModelDescriptor } from '../model/descriptor.ts';
import { MODELS_TOPIC_CONFIG } from '../model/models-topic.ts';
import type { ModelStore } from '../model/store.ts';

const encoder = new TextEncoder();

/** Creates the compacted models topic (one partition) unless it exists. */
export async function ensureModelsTopic(log: Log, topic: string): Promise<void> {
  await ensureTopic(log.admin, topic, MODELS_TOPIC_CONFIG);
}

/** Saves `descriptor` in `store`, then appends the stored form to `topic`; returns the stored form. */
export async function publishModel(store: ModelStore, producer: Producer, topic: string, descriptor: ModelDescriptor): Promise<ModelDescriptor> {
  const stored = await store.save(descriptor);
  try {
    await producer.send([{ topic, key: encoder.encode(stored.name), value: encoder.encode(JSON.stringify(stored)) }]);
  } catch (error) {
    const code = isSluiceError(error) ? error.code : ErrorCode.LOG_BACKEND;
    throw new SluiceError(code, `'${stored.name}' v${stored.version} is in the model store but appending it to topic '${topic}' failed: ${(error as Error).message}`, {
      cause: error,
      retriable: isSluiceError(error) && error.retriable,
      details: { name: stored.name, version: stored.version, topic },
    });
  }
  return stored;
}
