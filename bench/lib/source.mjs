// The request a bench's tracker reads, without a server.

/** A RequestSource over a plain request description, shaped like the Express adapter's. */
export class Source {
  constructor(req) {
    this.req = req;
    this.url = req.path;
    this.socketAddress = '127.0.0.1';
  }
  header(name) {
    return this.req.headers[name];
  }
  ip() {
    return '203.0.113.7';
  }
  protocol() {
    return 'https';
  }
  host() {
    return 'shop.example.com';
  }
}
