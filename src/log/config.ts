/**
 * How to connect to a log backend. The embedded backend is the default; Kafka is chosen by
 * `backend: 'kafka'` with its brokers and, where the cluster needs them, TLS and SASL settings.
 */
import type { ConnectionOptions } from 'node:tls';

/** The embedded backend: a durable log in one local directory, shared by processes on this machine. */
export interface EmbeddedLogConfig {
  readonly backend: 'embedded';
  /** Directory holding the log. Default `./data`. */
  readonly dir?: string;
  /** Size at which a partition of a `delete`-policy topic starts a new segment file. Default 64 MiB. */
  readonly segmentBytes?: number;
}

/** SASL credentials for Kafka. */
export interface KafkaSaslConfig {
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
}

/** The Kafka backend: an Apache Kafka cluster. */
export interface KafkaLogConfig {
  readonly backend: 'kafka';
  /** Bootstrap brokers as `host:port`. */
  readonly brokers: readonly string[];
  /** Client id sent to the brokers. Default `sluice`. */
  readonly clientId?: string;
  /** TLS: `true` for defaults, or Node's TLS connection options (CA, certificates…). */
  readonly tls?: boolean | ConnectionOptions;
  readonly sasl?: KafkaSaslConfig;
  /** Timeout of a single request to a broker. Default 30 000 ms. */
  readonly requestTimeoutMs?: number;
}

/** Either backend's connection settings. */
export type LogConfig = EmbeddedLogConfig | KafkaLogConfig;

/** The embedded directory used when none is given. */
export const DEFAULT_EMBEDDED_DIR = './data';

/** The address of the repo's test broker (scripts/kafka). */
export const DEFAULT_TEST_BROKER = '127.0.0.1:19092';
