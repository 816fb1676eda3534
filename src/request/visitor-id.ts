/**
 * The visitor ids the Ours browser SDK writes, in its `ours_device_id`
 * cookie and in the `ours_user_id` cross-domain hand-off: a UUID v4
 * (`crypto.randomUUID()`, lower case; upper case accepted, as UUIDs compare
 * case-insensitively). Anything else (a 5,000-character cookie, a forged or
 * foreign value) is not a visitor: cutting or sending it would make up one.
 */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** True when `id` is a visitor id the browser SDK could have written. */
export function isVisitorId(id: string): boolean {
  return id.length === 36 && UUID_V4.test(id);
}
