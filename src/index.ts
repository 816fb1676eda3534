/**
 * ours-middleware: the framework-free core. The adapters live at
 * `ours-middleware/express` and `ours-middleware/koa`; a mock API for tests at
 * `ours-middleware/testing`.
 */
export { OursClient } from './client';
export type { ClientOptions, RetryOptions } from './options';
export type { ExperimentClientOptions, ExperimentCacheOptions } from './experiments/options';
export type {
  ExperimentAssignment,
  ExperimentCallOptions,
  Personalization,
  PersonalizationCallOptions,
  PersonalizationEntry,
} from './experiments/types';
export type { ClientStats, DropInfo, StoreDropReason } from './stats';
export type { FlushReport } from './client/flush-waiter';
export { MemoryStore } from './stores/memory-store';
export type { EventStore, QueuedEvent, StoreHooks, EventPath } from './stores/event-store';
export type { Logger } from './logger';
export type { FetchLike, FetchResponseLike } from './client/post-events';
export type {
  TrackEvent,
  IdentifyEvent,
  Identity,
  PropertyMap,
  PropertyValue,
  UserPropertiesInput,
} from './events';
export { OursError, OursConfigError, OursValidationError, OursDeliveryError } from './errors';
export type { ContractIssue } from './contract/check';
export type * from './contract/types';
export { version } from './version';
export { fileStore, redisStore } from './stores/factories';
export type { FileStore, FileStoreOptions } from './stores/file-store';
export type { RedisStore, RedisStoreOptions, RedisLike } from './stores/redis-store';
export { redactUrl, REDACTED } from './request/redact-url';
export type { RedactOption, RedactOptions } from './request/redact-option';
export type { ConsentOption, ConsentChoices } from './request/consent';
