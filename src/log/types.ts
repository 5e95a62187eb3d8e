/**
 * The Sluice log API: a partitioned, replayable, durable log of records (topics → partitions →
 * offsets) with Kafka's semantics. Every backend (embedded, Kafka) implements these interfaces and
 * passes the same conformance suite (test/log/conformance.ts).
 */

/** Record headers: name → bytes. */
export type RecordHeaders = Readonly<Record<string, Uint8Array>>;

/** A record as stored in the log and returned by a consumer. */
export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  /** Position of the record in its partition; strictly increasing, not necessarily contiguous. */
  readonly offset: number;
  /** Event time in milliseconds since the epoch (set by the producer, or the append time). */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers: RecordHeaders;
  /**
   * When the log appended the record, in milliseconds since the epoch with a fraction (the embedded
   * backend: the time its writer inserted the record's batch, right before the commit; undefined
   * for batches written before the log kept it, and on Kafka, where a topic with
   * `message.timestamp.type=LogAppendTime` puts the append time in `timestamp` instead).
   */
  readonly appendedAt?: number | undefined;
}

/** A record handed to a producer. */
export interface ProducerRecord {
  readonly topic: string;
  /** Records with the same key land on the same partition (murmur2, as Kafka's default). */
  readonly key?: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers?: RecordHeaders;
  /** Event time in ms; defaults to the time of the send. */
  readonly timestamp?: number;
  /** Explicit partition; overrides the key's partition. */
  readonly partition?: number;
}

/** Where a produced record landed. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A topic and one of its partitions. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A topic partition with an offset (the next offset to read, when committing). */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

/** How old records leave a topic. */
export const CleanupPolicy = { delete: 'delete', compact: 'compact' } as const;
/** `delete` (retention by time/size) or `compact` (keep the latest record per key). */
export type CleanupPolicy = (typeof CleanupPolicy)[keyof typeof CleanupPolicy];

/** Settings of a topic. `null` retention means unlimited. */
export interface TopicConfig {
  readonly partitions: number;
  readonly retentionMs: number | null;
  /** Per-partition size limit in bytes. */
  readonly retentionBytes: number | null;
  readonly cleanupPolicy: CleanupPolicy;
  /**
   * Longest time a segment stays open for appends; retention and compaction only reclaim closed
   * segments (Kafka's `segment.ms`). null = the backend's default (Kafka: 7 days; embedded: every
   * batch is its own segment, so this setting has no effect there).
   */
  readonly segmentMs: number | null;
}

/** Options of {@link Admin.createTopic}; unset fields take the defaults below. */
export interface CreateTopicOptions {
  /** Default 1. */
  readonly partitions?: number;
  /** Default null (forever). */
  readonly retentionMs?: number | null;
  /** Default null (unlimited). */
  readonly retentionBytes?: number | null;
  /** Default `delete`. */
  readonly cleanupPolicy?: CleanupPolicy;
  /** Default null (the backend's default). */
  readonly segmentMs?: number | null;
}

/** Offsets of one partition: records live in [startOffset, endOffset). */
export interface PartitionInfo {
  readonly partition: number;
  /** First offset still stored (after retention). */
  readonly startOffset: number;
  /** Offset the next record will get (the high watermark). */
  readonly endOffset: number;
}

/** What {@link Admin.describeTopic} returns. */
export interface TopicDescription {
  readonly name: string;
  readonly config: TopicConfig;
  readonly partitions: readonly PartitionInfo[];
}

/** Topic management. */
export interface Admin {
  /** Creates a topic; fails with LOG_TOPIC_EXISTS if it exists. */
  createTopic(name: string, options?: CreateTopicOptions): Promise<void>;
  /** Deletes a topic and its records; fails with LOG_UNKNOWN_TOPIC if absent. */
  deleteTopic(name: string): Promise<void>;
  /** Names of all user topics, sorted. */
  listTopics(): Promise<string[]>;
  /** Config and per-partition offsets of a topic. */
  describeTopic(name: string): Promise<TopicDescription>;
}

/** Acknowledgement level of a send. */
export const Acks = { none: 'none', leader: 'leader', all: 'all' } as const;
/**
 * `all`: the send resolves once the records are durable (embedded: fsynced; Kafka: acks=-1).
 * `leader`: once written (embedded: to the OS, no fsync; Kafka: acks=1).
 * `none`: fire and forget on Kafka (acks=0); same as `leader` on the embedded backend.
 */
export type Acks = (typeof Acks)[keyof typeof Acks];

/** Options of a producer. */
export interface ProducerOptions {
  /** Default `all`. */
  readonly acks?: Acks;
  /** Deduplicate retried sends (Kafka idempotent producer). Default true. */
  readonly idempotent?: boolean;
  /** Required to use transactions; a new producer with the same id fences the old one. */
  readonly transactionalId?: string;
  /** Sends wait (push back) while this many bytes are buffered and unacknowledged. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Largest record (key + value + headers) accepted. Default 1 MiB. */
  readonly maxRecordBytes?: number;
  /** How long to gather concurrent sends into one batch, in ms. Default 0. */
  readonly lingerMs?: number;
}

/** Writes records. */
export interface Producer {
  /**
   * Appends records (in order per partition) and resolves with where each landed, in input
   * order, once acknowledged per `acks`. Either all records are validated before any is written,
   * or none is written. Fails with LOG_TRANSACTION_STATE while a transaction is open.
   */
  send(records: readonly ProducerRecord[]): Promise<RecordMetadata[]>;
  /**
   * Starts a transaction. One at a time per producer; without a `transactionalId`, or with one
   * already open, fails with LOG_TRANSACTION_STATE.
   */
  beginTransaction(): Promise<Transaction>;
  /** Flushes pending sends and releases resources; later calls (except close) fail with LOG_CLOSED. */
  close(): Promise<void>;
}

/** Consumer group offsets handed to a transaction. */
export interface TransactionOffsets {
  readonly groupId: string;
  /** Next offsets to read, per partition. */
  readonly offsets: readonly TopicPartitionOffset[];
  /** Generation of the group member committing them; stale generations are rejected (fencing). */
  readonly consumer?: Consumer;
}

/** An atomic unit: records on any topics plus consumer offsets, all visible or none. */
export interface Transaction {
  /** Adds records to the transaction; they are invisible to read-committed consumers until commit. */
  send(records: readonly ProducerRecord[]): Promise<void>;
  /** Commits consumer group offsets as part of the transaction. */
  sendOffsets(offsets: TransactionOffsets): Promise<void>;
  /** Makes everything visible atomically. */
  commit(): Promise<void>;
  /** Discards everything; read-committed consumers never see it. */
  abort(): Promise<void>;
}

/** Which records a consumer sees. */
export const IsolationLevel = {
  readCommitted: 'read_committed',
  readUncommitted: 'read_uncommitted',
} as const;
/** `read_committed` (default) hides records of open and aborted transactions. */
export type IsolationLevel = (typeof IsolationLevel)[keyof typeof IsolationLevel];

/** Where to start when a group has no committed offset, or after `seek` to a bound. */
export type OffsetReset = 'earliest' | 'latest';

/** Options of a consumer. */
export interface ConsumerOptions {
  /** Consumer group; needed for `subscribe` and `commit`. */
  readonly groupId?: string;
  /** Default `read_committed`. */
  readonly isolationLevel?: IsolationLevel;
  /** Where to start without a committed offset. Default `earliest`. */
  readonly autoOffsetReset?: OffsetReset;
  /** Largest batch `poll` returns. Default 10 000. */
  readonly maxPollRecords?: number;
  /** A member silent for longer is removed from its group. Default 10 000 ms. */
  readonly sessionTimeoutMs?: number;
  /** How often a member tells the group it is alive. Default 1 000 ms. */
  readonly heartbeatIntervalMs?: number;
}

/** Where {@link Consumer.seek} moves a partition's position. */
export type SeekTarget =
  | 'earliest'
  | 'latest'
  | { readonly offset: number }
  /** The first record whose timestamp is ≥ this time (or the end). */
  | { readonly timestamp: number };

/** A group's committed offset for one partition; null when the group never committed it. */
export interface CommittedOffset extends TopicPartition {
  readonly offset: number | null;
}

/** Lag of one partition for one consumer. */
export interface PartitionLag extends TopicPartition {
  /** Next offset this consumer will read. */
  readonly position: number;
  /** The group's committed offset, or null. */
  readonly committed: number | null;
  /** The partition's end offset (high watermark). */
  readonly endOffset: number;
  /** endOffset − position. */
  readonly lag: number;
}

/** Called around a group rebalance. */
export interface RebalanceListener {
  /** Partitions taken away; commit their progress here. */
  onRevoked?(partitions: readonly TopicPartition[]): void | Promise<void>;
  /** Partitions newly given to this member. */
  onAssigned?(partitions: readonly TopicPartition[]): void | Promise<void>;
}

/** Reads records. */
export interface Consumer {
  /** Joins the consumer group for these topics; partitions are assigned and rebalanced. */
  subscribe(topics: readonly string[], listener?: RebalanceListener): Promise<void>;
  /** Takes these partitions by hand (no group membership). */
  assign(partitions: readonly TopicPartition[]): Promise<void>;
  /** Partitions currently assigned to this consumer. */
  assignment(): TopicPartition[];
  /** Group generation this member holds, or null when not in a group. */
  generation(): number | null;
  /**
   * Returns the next batch (possibly empty after `timeoutMs`, default 1 000 ms), in offset order
   * per partition. `timeoutMs: 0` returns what the log holds now without waiting for more. In a
   * group, this is also where rebalances take effect.
   */
  poll(options?: { readonly maxRecords?: number; readonly timeoutMs?: number }): Promise<LogRecord[]>;
  /** Moves the position of an assigned partition. */
  seek(partition: TopicPartition, target: SeekTarget): Promise<void>;
  /** Next offset to be read from an assigned partition. */
  position(partition: TopicPartition): Promise<number>;
  /** Commits offsets (default: the current positions of all assigned partitions). */
  commit(offsets?: readonly TopicPartitionOffset[]): Promise<void>;
  /** Committed offsets of the group for these partitions (null where none). */
  committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]>;
  /** Lag of every assigned partition. */
  lag(): Promise<PartitionLag[]>;
  /** Leaves the group (triggering a rebalance) and releases resources. Closing twice is a no-op. */
  close(): Promise<void>;
}

/** Which backend a {@link Log} talks to. */
export type BackendName = 'embedded' | 'kafka';

/** A connection to one log backend: the factory of admins, producers and consumers. */
export interface Log {
  readonly backend: BackendName;
  readonly admin: Admin;
  /**
   * True when a durable write (`acks: 'all'`, an offset commit) makes every earlier write of the
   * same process durable too, and a power loss never keeps an offset commit while losing records
   * appended before it: the embedded log (a flush covers the segment files its process wrote and
   * the one write-ahead log; an offset commit first waits for every unflushed segment). Not Kafka,
   * whose partitions live on different brokers. The stream runtime's
   * at-least-once mode then produces outputs without waiting for a flush: the durable offset commit
   * that follows them covers them. Absent: false.
   */
  readonly orderedDurability?: boolean;
  /**
   * True when a send costs the log about the same whatever its size (one write transaction, its
   * index rows, a wake-up of a writer thread: the embedded log), so a caller with records to spare
   * does better sending them together. Not Kafka, whose client gathers sends into batches itself
   * (there the stream runtime holding outputs back only took the overlap of sends and processing
   * away: −20 % measured). The stream runtime's at-least-once mode then appends a backlog's
   * outputs several batches at a time. Absent: false.
   */
  readonly fixedCostPerSend?: boolean;
  producer(options?: ProducerOptions): Producer;
  consumer(options?: ConsumerOptions): Consumer;
  /** Closes every producer and consumer made by this log, then the connection. */
  close(): Promise<void>;
}
