/** Topic management for the embedded log. */
import type { Admin, CreateTopicOptions, TopicDescription } from '../types.ts';
import { assertOpen, assertTopicName, resolveTopicConfig } from '../validate.ts';
import type { EmbeddedContext } from './context.ts';

/** The embedded log's {@link Admin}. */
export class EmbeddedAdmin implements Admin {
  readonly #ctx: EmbeddedContext;
  readonly #isClosed: () => boolean;

  constructor(ctx: EmbeddedContext, isClosed: () => boolean) {
    this.#ctx = ctx;
    this.#isClosed = isClosed;
  }

  #run<T>(body: () => T): Promise<T> {
    try {
      assertOpen(this.#isClosed(), 'log');
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  createTopic(name: string, options?: CreateTopicOptions): Promise<void> {
    return this.#run(() => this.#ctx.topics.create(name, resolveTopicConfig(name, options), this.#ctx.clock()));
  }

  deleteTopic(name: string): Promise<void> {
    return this.#run(() => {
      assertTopicName(name);
      this.#ctx.topics.delete(name);
    });
  }

  listTopics(): Promise<string[]> {
    return this.#run(() => this.#ctx.topics.list().map((t) => t.name));
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.#run(() => {
      this.#ctx.topics.forget(name);
      const topic = this.#ctx.topics.get(name);
      return { name, config: topic.config, partitions: this.#ctx.topics.partitions(topic) };
    });
  }
}
