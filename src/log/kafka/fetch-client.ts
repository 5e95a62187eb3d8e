/**
 * The client our Kafka consumer fetches with: @platformatic/kafka's Consumer, except that the
 * aborted-transaction list of each partition of a Fetch response is taken out of the response
 * before the client's own read_committed filter sees it, and kept for ours (fetch.ts).
 *
 * Why: @platformatic/kafka (2.12) drops aborted records itself, with one offset range per producer:
 * from the first offset of the producer's last listed aborted transaction to the producer's last
 * ABORT marker in the response. The broker lists only aborted transactions that wrote to the
 * partition, but writes an ABORT marker to every partition the transaction had added, written to
 * or not. So when a response holds an aborted transaction with records, then committed ones, then
 * an ABORT marker of a transaction that wrote nothing there (an instance killed after adding the
 * partition to its transaction and before writing to it — common in exactly-once crash tests), the
 * range spans the committed transactions in between, markers included: they vanish from the
 * response, the position moves past them, and a read_committed reader silently misses committed
 * records (changelog restores, downstream readers). Our filter follows Kafka's Java consumer:
 * an aborted transaction's records are skipped only until that producer's next ABORT marker.
 *
 * Only the Fetch API is wrapped; the broker still gets `isolation_level = read_committed`, so it
 * still stops at the last stable offset and still lists the aborted transactions.
 */
import { promisify } from 'node:util';
import { type API, type Callback, Consumer, kGetApi } from '@platformatic/kafka';

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
type FetchPartition = FetchResponse['responses'][number]['partitions'][number];
/** One entry of a partition's aborted-transaction list (producer id, first offset). */
export type AbortedTransaction = NonNullable<FetchPartition['abortedTransactions']>[number];

const NONE: readonly AbortedTransaction[] = Object.freeze([]);
/** The lists taken out of responses, by partition object of the response. */
const kept = new WeakMap<FetchPartition, readonly AbortedTransaction[]>();

/** The aborted transactions the broker listed for `partition` of a Fetch response (read_committed). */
export function abortedTransactionsOf(partition: FetchPartition): readonly AbortedTransaction[] {
  return kept.get(partition) ?? partition.abortedTransactions ?? NONE;
}

/** Moves every partition's aborted-transaction list of `response` out of the client's sight. */
function keepAbortedTransactions(response: FetchResponse | undefined): void {
  for (const topic of response?.responses ?? []) {
    for (const partition of topic.partitions) {
      const list = partition.abortedTransactions;
      if (list === null || list.length === 0) continue;
      kept.set(partition, list);
      partition.abortedTransactions = [];
    }
  }
}

type AnyApi = API<unknown[], unknown>;
const wrapped = new WeakMap<AnyApi, AnyApi>();

/** `api` (a Fetch API version) with every response passed through {@link keepAbortedTransactions}. */
function keepingAbortedTransactions(api: AnyApi): AnyApi {
  const known = wrapped.get(api);
  if (known !== undefined) return known;
  const call = (connection: Parameters<AnyApi>[0], ...args: unknown[]): void => {
    const done = args.at(-1);
    if (typeof done !== 'function') {
      api(connection, ...args);
      return;
    }
    const callback: Callback<unknown> = (error, response) => {
      keepAbortedTransactions((response ?? (error as { response?: unknown } | null)?.response) as FetchResponse | undefined);
      (done as Callback<unknown>)(error, response);
    };
    api(connection, ...args.slice(0, -1), callback);
  };
  const result = Object.assign(call, { key: api.key, version: api.version, async: promisify(call) }) as unknown as AnyApi;
  wrapped.set(api, result);
  return result;
}

/** @platformatic/kafka's Consumer whose Fetch responses keep their aborted-transaction lists for us. */
export class FetchClient extends Consumer {
  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(name: string, callback: Callback<API<RequestArguments, ResponseType>>): void {
    if (name !== 'Fetch') {
      super[kGetApi](name, callback);
      return;
    }
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      if (error !== null || api === undefined) callback(error, api);
      else callback(null, keepingAbortedTransactions(api as unknown as AnyApi) as unknown as API<RequestArguments, ResponseType>);
    });
  }
}
