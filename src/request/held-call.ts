import type {
  Identity,
  IdentifyEvent,
  PropertyMap,
  TrackEvent,
  UserPropertiesInput,
} from '../events';

/** Fields of the contract's event that a call may set, winning over what was read. */
export type TrackOverrides = Omit<TrackEvent, 'event' | 'eventProperties'>;
/** Fields of an identify call that a call may set. */
export type IdentifyOverrides = Omit<IdentifyEvent, 'userProperties'>;

/** A `req.ours.track()` or `identify()` call, held until its response is over. */
export interface HeldCall {
  readonly kind: 'track' | 'identify';
  readonly name: string;
  readonly properties: PropertyMap | UserPropertiesInput | undefined;
  readonly overrides: TrackOverrides | IdentifyOverrides | undefined;
  /** `setIdentity()` as it was when the call was made. */
  readonly identity: Identity | undefined;
  readonly time: number;
}

/**
 * What a request sends as: the identity of its calls, or why it sends
 * nothing (the app filtered it, or one of its hooks failed).
 */
export type Decision = Identity | 'filtered' | 'hook_failed' | 'invalid';
