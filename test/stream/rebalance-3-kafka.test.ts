/**
 * The three-instance rebalance scenario (rebalance-scenarios.ts) on the Kafka test broker
 * (scripts/kafka start). Without a broker it is skipped, except under CI (CI=true), where a
 * missing broker fails.
 */
import { kafkaBackend, kafkaGate } from './backends.ts';
import { threeInstancesExactlyOnce } from './rebalance-scenarios.ts';

const gate = await kafkaGate();
threeInstancesExactlyOnce(kafkaBackend, { skip: gate.skip, gate: gate.check });
