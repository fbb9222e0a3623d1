// The outbound federation sender: durable per-destination queues over `federation_outbox`.

export { DEFAULT_BACKOFF, retryIntervalMs, type BackoffPolicy } from './backoff.ts';
export { transactionId, type QueueLimits, type SenderLogger } from './destination-queue.ts';
export {
  DEFAULT_LIMITS,
  FederationSender,
  type DestinationHealth,
  type FederationSenderOptions,
  type OutgoingEdu,
  type SenderRoomSource,
} from './federation-sender.ts';
export { realTimers, type SenderTimers } from './timers.ts';
export { federationClientTransport, type TransactionBody, type TransactionTransport } from './transport.ts';
