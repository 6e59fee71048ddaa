// The page's one WebSocket: every tile, overlay and the status list share it.
// Protocol: cluster/web/protocol.py. Each server message has a seq; the page acks
// (cumulatively, batched) once it has handled messages, frames once drawn, so the
// server never has more than its window in flight and a busy or hidden page never
// builds a backlog: the server keeps only the newest unsent message per channel.

const SESSION_ENDED = 4401;
const BAD_MESSAGE = 4400;
const ACK_DELAY_MS = 50;

function keyOf(channel, camera) {
  return `${channel}|${camera || ""}`;
}

export class Connection {
  constructor({ onSessionEnded, onConnectionChange }) {
    this.onSessionEnded = onSessionEnded;
    this.onConnectionChange = onConnectionChange;
    this.subscriptions = new Map(); // key -> {request, handler}
    this.ws = null;
    this.stopped = false;
    this.retryMs = 500;
    this.resetSequence();
  }

  resetSequence() {
    this.acked = 0; // every message up to this seq is handled
    this.ackSent = 0; // the last ack sent
    this.ackEvery = 4; // a quarter of the server's window, from its hello
    this.done = new Set();
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  open() {
    this.stopped = false;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.resetSequence();
    ws.addEventListener("open", () => {
      this.retryMs = 500;
      this.onConnectionChange(true);
      for (const { request } of this.subscriptions.values()) this.send(request);
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => this.closed(ws, event));
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000, "page left");
    this.ws = null;
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  // handler: {frame(header, blob) -> Promise, detections(msg), cameras(msg), closed(msg)}
  subscribe(channel, camera, options, handler) {
    const request = { type: "subscribe", channel, ...options };
    if (camera) request.camera = camera;
    this.subscriptions.set(keyOf(channel, camera), { request, handler });
    this.send(request);
  }

  unsubscribe(channel, camera) {
    const key = keyOf(channel, camera);
    if (!this.subscriptions.delete(key)) return;
    const request = { type: "unsubscribe", channel };
    if (camera) request.camera = camera;
    this.send(request);
  }

  has(channel, camera) {
    return this.subscriptions.has(keyOf(channel, camera));
  }

  receive(data) {
    if (typeof data === "string") {
      const message = JSON.parse(data);
      try {
        this.dispatch(message);
      } finally {
        this.complete(message.seq);
      }
      return;
    }
    const view = new DataView(data);
    const length = view.getUint32(0);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(data, 4, length)));
    const blob = new Blob([new Uint8Array(data, 4 + length)], { type: "image/jpeg" });
    const entry = this.subscriptions.get(keyOf("frames", header.camera));
    const drawn = entry && entry.handler.frame ? entry.handler.frame(header, blob) : null;
    Promise.resolve(drawn).catch(() => {}).finally(() => this.complete(header.seq));
  }

  dispatch(message) {
    if (message.type === "hello") {
      this.ackEvery = Math.max(1, Math.floor(message.window / 4));
      return;
    }
    const channel = message.type === "cameras" ? "status" : message.type === "closed" ? message.channel : message.type;
    const key = keyOf(channel, message.camera);
    const entry = this.subscriptions.get(key);
    if (!entry) return;
    if (message.type === "closed") {
      this.subscriptions.delete(key);
      if (entry.handler.closed) entry.handler.closed(message);
    } else if (entry.handler[message.type]) {
      entry.handler[message.type](message);
    }
  }

  complete(seq) {
    // Frames finish drawing out of order: ack the highest seq below which all are done.
    // Acks are cumulative, so they are batched (every quarter window, or 50 ms after the
    // first unsent one): each ack costs the front door a message to parse.
    this.done.add(seq);
    while (this.done.has(this.acked + 1)) {
      this.acked += 1;
      this.done.delete(this.acked);
    }
    if (this.acked === this.ackSent) return;
    if (this.acked - this.ackSent >= this.ackEvery) {
      this.flushAck();
    } else if (!this.ackTimer) {
      this.ackTimer = setTimeout(() => this.flushAck(), ACK_DELAY_MS);
    }
  }

  flushAck() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.acked > this.ackSent) {
      this.ackSent = this.acked;
      this.send({ type: "ack", seq: this.acked });
    }
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    if (this.stopped) return;
    if (event.code === SESSION_ENDED) {
      this.onSessionEnded();
      return;
    }
    if (event.code === BAD_MESSAGE) console.error("console socket refused a message:", event.reason);
    this.onConnectionChange(false);
    setTimeout(() => {
      if (!this.stopped) this.open();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 10000);
  }
}
