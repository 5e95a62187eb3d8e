/**
 * A control stream handle in a topology being built (`builder.control(topic)`): a topic read in
 * full by every instance and broadcast to every task, for dynamically updated parameters such as
 * models. It has no operators of its own; `stream.connect(control, supplier)` hands its records to
 * a {@link ConnectedProcessor} in every task, ahead of the data records that arrive after them,
 * and a `perInstance` listener gets them once per instance (with or without tasks).
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { StreamRecord } from '../record.ts';
import type { NamedOptions } from '../topology/stream.ts';

/**
 * Gets every record of a control topic that a running instance reads, in read order, whether or
 * not the instance has tasks (see {@link ControlOptions.perInstance}). A returned promise holds
 * the instance's data back until it settles, like a connected processor's `control()`.
 */
export type ControlListener<CK, CV> = (record: StreamRecord<CK, CV>) => void | Promise<void>;

/** Makes the {@link ControlListener} of one running instance (`run()`, or a test driver). */
export type ControlListenerSupplier<CK, CV> = () => ControlListener<CK, CV>;

/** Options of `builder.control()`. */
export interface ControlOptions<CK, CV> extends NamedOptions {
  /** Codec of control record keys. Default: raw bytes. */
  readonly key?: Codec<CK>;
  /** Codec of control record values. Default: raw bytes. */
  readonly value?: Codec<CV>;
  /**
   * Instance-wide state fed by the control topic (a model registry, a config cache): called once
   * per running instance for a listener that gets every control record the instance reads — from
   * the earliest offset at start, then each new one — before its tasks do, and also while the
   * instance holds no partition (its tasks see records only while they exist, and a task created
   * later is replayed the latest record per key). Its failures follow the topology's `processing`
   * error policy (a dead letter carries the control record). A control stream with a listener
   * need not be connected to a stream.
   */
  readonly perInstance?: ControlListenerSupplier<CK, CV>;
}

/** A control stream with keys `CK` and values `CV`. */
export class ControlStream<CK, CV> {
  /** Name of the control node. */
  readonly node: string;
  /** The control topic. */
  readonly topic: string;
  readonly keyCodec: Codec<CK>;
  readonly valueCodec: Codec<CV>;
  /** The builder that made it (connect() checks that both sides come from the same one). */
  readonly #owner: object;

  /** Made by `builder.control()`. */
  constructor(owner: object, options: { node: string; topic: string; key: Codec<CK>; value: Codec<CV> }) {
    this.#owner = owner;
    this.node = options.node;
    this.topic = options.topic;
    this.keyCodec = options.key;
    this.valueCodec = options.value;
  }

  /** True when `builder` made this control stream. */
  isFrom(builder: object): boolean {
    return this.#owner === builder;
  }
}
