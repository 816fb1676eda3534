const EVENT_NAMES = ['Order Completed', 'Product Viewed', 'Signed Up', 'Subscription Renewed'];

/**
 * One backend event, as a server calls `client.track()` outside a request:
 * an identity, a handful of properties, the user's IP. About 300 bytes of
 * JSON on the wire with its distinctId and time.
 */
export function backendEvent(i) {
  return {
    event: EVENT_NAMES[i & 3],
    externalId: `user_${i % 20_000}`,
    eventProperties: {
      order_id: `ord_${100_000 + i}`,
      total: 19.99 + (i % 100),
      currency: 'USD',
      items: 1 + (i % 5),
      coupon: i % 7 === 0 ? 'SPRING24' : null,
    },
    defaultProperties: {
      ip: `203.0.113.${i & 255}`,
      current_url: 'https://shop.example.com/checkout/complete',
    },
  };
}
