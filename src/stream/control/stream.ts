/**
 * A control stream handle in a topology being built (`builder.control(topic)`): a topic read in
 * full by every instance and broadcast to every task, for dynamically updated parameters such as
 * models. It has no operators of its own; `stream.connect(control, supplier)` hands its records to
 * a {@link ConnectedProcessor} in every task, ahead of the data records that arrive after them.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { NamedOptions } from '../topology/stream.ts';

/** Options of `builder.control()`. */
export interface ControlOptions<CK, CV> extends NamedOptions {
  /** Codec of control record keys. Default: raw bytes. */
  readonly key?: Codec<CK>;
  /** Codec of control record values. Default: raw bytes. */
  readonly value?: Codec<CV>;
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
