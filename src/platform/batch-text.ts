/** `head`, the events' JSON joined by commas, then `]}`: a `/batch` body as one string. */
export function batchText(head: string, events: readonly { json: string }[]): string {
  return `${head}${events.map((e) => e.json).join(',')}]}`;
}
