/**
 * A Kafka transaction: records on any topics plus consumer-group offsets (TxnOffsetCommit), made
 * visible atomically by EndTxn. State misuse gives LOG_TRANSACTION_STATE; a newer producer with the
 * same transactionalId gives LOG_PRODUCER_FENCED.
 */
import type { Admin as KafkaAdmin, Message, Producer as KafkaClientProducer } from '@platformatic/kafka';

type KafkaClientTransaction = NonNullable<KafkaClientProducer['transaction']>;
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { DefaultPartitioner } from '../partitioner.ts';
import type { Consumer, ProducerRecord, Transaction, TransactionOffsets } from '../types.ts';
import { assertOffset, assertPartition, assertTopicName } from '../validate.ts';
import type { ByteBudget } from './budget.ts';
import type { TopicCache } from './client.ts';
import { toSluiceError } from './errors.ts';
import { chunkMessages, prepareBatch } from './records.ts';

/** What a transaction needs from its producer. */
export interface TransactionHost {
  readonly client: KafkaClientProducer;
  readonly admin: KafkaAdmin;
  readonly topics: TopicCache;
  readonly budget: ByteBudget;
  readonly partitioner: DefaultPartitioner;
  readonly options: { readonly maxRecordBytes: number };
  assertUsable(): void;
  failure(error: unknown, what: string): SluiceError;
  transactionEnded(tx: KafkaTransaction): void;
  track<T>(p: Promise<T>): Promise<T>;
}

/** Group membership a consumer hands to sendOffsets, so stale generations are fenced. */
export interface GroupMembership {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly coordinatorId: number;
}

/** A consumer of this backend that can tell its group membership. */
interface MembershipSource {
  groupMembership(): GroupMembership | null;
}

function hasMembership(c: Consumer | undefined): c is Consumer & MembershipSource {
  return c !== undefined && typeof (c as Partial<MembershipSource>).groupMembership === 'function';
}

type State = 'open' | 'committing' | 'aborting' | 'committed' | 'aborted' | 'failed';

/** The Kafka implementation of {@link Transaction}. */
export class KafkaTransaction implements Transaction {
  readonly #host: TransactionHost;
  readonly #tx: KafkaClientTransaction;
  #state: State = 'open';
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #groups = new Set<string>();
  /** Whether anything was added on the broker; an untouched transaction ends locally. */
  #touched = false;

  constructor(host: TransactionHost, tx: KafkaClientTransaction) {
    this.#host = host;
    this.#tx = tx;
  }

  #assertOpen(what: string): void {
    this.#host.assertUsable();
    if (this.#state !== 'open') {
      throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, `cannot ${what}: the transaction is ${this.#state}`);
    }
  }

  #run<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return this.#host.track(p);
  }

  async send(records: readonly ProducerRecord[]): Promise<void> {
    this.#assertOpen('send');
    const batch = await prepareBatch(records, this.#host.options.maxRecordBytes, this.#host.topics, this.#host.partitioner);
    if (batch.messages.length === 0) return;
    await this.#host.budget.reserve(batch.bytes);
    try {
      this.#assertOpen('send');
      this.#touched = true;
      await this.#run(
        (async () => {
          for (const chunk of chunkMessages(batch.messages)) await this.#tx.send({ messages: chunk });
        })(),
      );
    } catch (error) {
      throw this.#host.failure(error, 'sending records in a transaction');
    } finally {
      this.#host.budget.release(batch.bytes);
    }
  }

  async sendOffsets(offsets: TransactionOffsets): Promise<void> {
    this.#assertOpen('send offsets');
    const { groupId } = offsets;
    if (typeof groupId !== 'string' || groupId === '') {
      throw new SluiceError(ErrorCode.LOG_NO_GROUP, 'sendOffsets needs a groupId');
    }
    for (const o of offsets.offsets) {
      assertTopicName(o.topic);
      assertOffset('offset', o.offset);
      assertPartition(o.topic, o.partition, (await this.#host.topics.get(o.topic)).partitions);
    }
    const membership = await this.#membership(groupId, offsets.consumer);
    this.#touched = true;
    await this.#run(
      (async () => {
        try {
          if (!this.#groups.has(groupId)) {
            // addConsumer only reads the group id (AddOffsetsToTxn).
            await this.#tx.addConsumer({ groupId } as Parameters<KafkaClientTransaction['addConsumer']>[0]);
            this.#groups.add(groupId);
          }
          for (const o of offsets.offsets) {
            // The client commits `message.offset + 1`, the next offset to read.
            const message = { topic: o.topic, partition: o.partition, offset: BigInt(o.offset) - 1n, metadata: { consumer: membership } };
            await this.#tx.addOffset(message as unknown as Message);
          }
        } catch (error) {
          throw this.#host.failure(error, `sending offsets of group '${groupId}' to the transaction`);
        }
      })(),
    );
  }

  async #membership(groupId: string, consumer: Consumer | undefined): Promise<GroupMembership> {
    if (hasMembership(consumer)) {
      const m = consumer.groupMembership();
      if (m !== null && m.groupId === groupId) return m;
      if (m === null) {
        throw new SluiceError(ErrorCode.LOG_NO_GROUP, `sendOffsets: the consumer is not a member of group '${groupId}'`);
      }
    }
    try {
      const [found] = await this.#host.admin.findCoordinator({ keyType: 0, keys: [groupId] });
      return { groupId, generationId: -1, memberId: '', coordinatorId: found?.nodeId ?? -1 };
    } catch (error) {
      throw toSluiceError(error, `finding the coordinator of group '${groupId}'`);
    }
  }

  async commit(): Promise<void> {
    await this.#end(true);
  }

  async abort(): Promise<void> {
    await this.#end(false);
  }

  async #end(commit: boolean): Promise<void> {
    this.#assertOpen(commit ? 'commit' : 'abort');
    this.#state = commit ? 'committing' : 'aborting';
    const pending = await Promise.allSettled(this.#inflight);
    const failed = pending.find((r) => r.status === 'rejected');
    try {
      if (commit && failed !== undefined) {
        // A send of this transaction failed: committing would lose it, so abort instead.
        await this.#tx.abort().catch(() => {});
        this.#state = 'aborted';
        throw new SluiceError(ErrorCode.LOG_TRANSACTION_STATE, 'cannot commit: a send of this transaction failed; it was aborted', {
          cause: failed.reason,
        });
      }
      if (!this.#touched) await this.#tx.cancel();
      else if (commit) await this.#tx.commit();
      else await this.#tx.abort();
      this.#state = commit ? 'committed' : 'aborted';
    } catch (error) {
      if (this.#state === 'committing' || this.#state === 'aborting') this.#state = 'failed';
      throw this.#host.failure(error, commit ? 'committing the transaction' : 'aborting the transaction');
    } finally {
      this.#host.transactionEnded(this);
    }
  }

  /** Best-effort abort when the producer closes with this transaction open. */
  async abandon(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborting';
    await Promise.allSettled(this.#inflight);
    if (this.#touched) await this.#tx.abort().catch(() => this.#tx.cancel().catch(() => {}));
    else await this.#tx.cancel().catch(() => {});
    this.#state = 'aborted';
    this.#host.transactionEnded(this);
  }
}
