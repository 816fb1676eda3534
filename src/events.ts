import type { DefaultProperties, IdentityContext, UserProperties } from './contract/types';

/**
 * A value in `eventProperties`, `custom_properties` or `consent`. The API
 * takes strings: numbers and booleans are sent as strings, `undefined` is left
 * out, and `null` is sent as `null` (Ours ignores it in merged maps).
 */
export type PropertyValue = string | number | boolean | null | undefined;

/** A map of custom values, coerced to the contract's strings when queued. */
export type PropertyMap = Record<string, PropertyValue>;

/** Visitor properties as you may pass them: the contract's, with looser custom maps. */
export type UserPropertiesInput = Omit<UserProperties, 'custom_properties' | 'consent'> & {
  /** Your own visitor fields; merged into what Ours already holds. */
  custom_properties?: PropertyMap | null | undefined;
  /** Consent per purpose. An empty map is never sent: it could wipe the stored consent. */
  consent?: PropertyMap | null | undefined;
};

/** Who the event belongs to. Give at least one; `userId` wins, then `externalId`, then `email`. */
export interface Identity {
  /** The Ours Visitor ID (the `ours_device_id` cookie of the browser SDK). */
  userId?: string | null | undefined;
  /** Your system's id for this user. */
  externalId?: string | null | undefined;
  /** The user's email, the fallback lookup. */
  email?: string | null | undefined;
}

/**
 * One event for {@link OursClient.track}.
 *
 * @example
 * client.track({ event: 'Signed Up', userId, eventProperties: { plan: 'pro', seats: 3 } });
 */
export interface TrackEvent extends Identity {
  /** Event name, as allow-listed in the Ours dashboard (1 to 1000 characters). */
  event: string;
  /** When it happened: ms since the epoch or a Date, in the past 7 days. @defaultValue the moment `track()` is called */
  time?: number | Date | undefined;
  /** Idempotency key; Ours drops repeats. @defaultValue a UUID v4, fixed when queued so retries reuse it */
  distinctId?: string | undefined;
  /** Anything about the event. */
  eventProperties?: PropertyMap | null | undefined;
  /** Properties to set on the visitor. */
  userProperties?: UserPropertiesInput | null | undefined;
  /** Page, device and campaign, as the browser SDK would send them. */
  defaultProperties?: DefaultProperties | null | undefined;
  /** The end user's IP and User-Agent, for Ours' identity resolution. */
  identityContext?: IdentityContext | null | undefined;
}

/**
 * One call of {@link OursClient.identify}: sets properties on a visitor.
 *
 * @example
 * client.identify({ externalId: 'u_42', userProperties: { email: 'a@b.co' } });
 */
export interface IdentifyEvent extends Identity {
  /** Properties to set on the visitor (required by the contract). */
  userProperties: UserPropertiesInput;
  defaultProperties?: DefaultProperties | null | undefined;
  identityContext?: IdentityContext | null | undefined;
}
