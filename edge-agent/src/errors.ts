/**
 * The catalogue of edge-agent error codes. Every code here is documented in docs/errors.md;
 * test/errors.test.ts ties the two together in both directions.
 */
export class StoreEdgeError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: string, message: string, statusCode: number, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreEdgeError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options?.details;
  }
}

type ErrorFactory = (message?: string, options?: { cause?: unknown; details?: unknown }) => StoreEdgeError;

function defineError(code: string, defaultMessage: string, statusCode = 500): ErrorFactory & { code: string } {
  const factory = (message?: string, options?: { cause?: unknown; details?: unknown }) =>
    new StoreEdgeError(code, message ?? defaultMessage, statusCode, options);
  return Object.assign(factory, { code });
}

export const errors = {
  /** config */
  EDGE_ERR_CONFIG_INVALID: defineError('EDGE_ERR_CONFIG_INVALID', 'configuration is invalid', 500),
  EDGE_ERR_CONFIG_UNREADABLE: defineError('EDGE_ERR_CONFIG_UNREADABLE', 'configuration file cannot be read', 500),
  /** ledger */
  EDGE_ERR_LEDGER_CHAIN_BROKEN: defineError('EDGE_ERR_LEDGER_CHAIN_BROKEN', 'ledger hash chain is broken', 500),
  EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT: defineError(
    'EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT',
    'an event with this idempotency key exists with different content',
    409,
  ),
  EDGE_ERR_LEDGER_SCHEMA_TOO_NEW: defineError('EDGE_ERR_LEDGER_SCHEMA_TOO_NEW', 'ledger file was written by a newer storeedge', 500),
  /** device registry */
  EDGE_ERR_DEVICE_EXISTS: defineError('EDGE_ERR_DEVICE_EXISTS', 'a device with this id is already registered', 409),
  EDGE_ERR_DEVICE_NOT_FOUND: defineError('EDGE_ERR_DEVICE_NOT_FOUND', 'no device with this id is registered', 404),
  EDGE_ERR_DEVICE_ID_INVALID: defineError('EDGE_ERR_DEVICE_ID_INVALID', 'device id is not valid', 400),
  EDGE_ERR_DEVICE_KIND_INVALID: defineError('EDGE_ERR_DEVICE_KIND_INVALID', 'device kind is not known', 400),
  EDGE_ERR_DEVICE_DRIVER_INVALID: defineError('EDGE_ERR_DEVICE_DRIVER_INVALID', 'driver is not known or does not serve this kind', 400),
  /** broker */
  EDGE_ERR_BROKER_LISTEN: defineError('EDGE_ERR_BROKER_LISTEN', 'broker could not listen', 500),
  EDGE_ERR_BROKER_TLS: defineError('EDGE_ERR_BROKER_TLS', 'broker TLS certificate or key cannot be read', 500),
  EDGE_ERR_UPSTREAM_BROKER: defineError('EDGE_ERR_UPSTREAM_BROKER', 'external broker connection failed', 502),
  /** device ingest: each reject is counted per device and per code (storeedge_rejects_total) */
  EDGE_ERR_INGEST_UNKNOWN_DEVICE: defineError('EDGE_ERR_INGEST_UNKNOWN_DEVICE', 'message from a device that is not registered', 403),
  EDGE_ERR_INGEST_DEVICE_DISABLED: defineError('EDGE_ERR_INGEST_DEVICE_DISABLED', 'message from a disabled device', 403),
  EDGE_ERR_INGEST_TOPIC_DENIED: defineError('EDGE_ERR_INGEST_TOPIC_DENIED', 'publish or subscribe outside the client\'s own topics', 403),
  EDGE_ERR_INGEST_UNKNOWN_TYPE: defineError('EDGE_ERR_INGEST_UNKNOWN_TYPE', 'event type is not known for this kind of device', 422),
  EDGE_ERR_INGEST_PAYLOAD_TOO_LARGE: defineError('EDGE_ERR_INGEST_PAYLOAD_TOO_LARGE', 'payload is larger than ingest.maxPayloadBytes', 413),
  EDGE_ERR_INGEST_PACKET_TOO_LARGE: defineError('EDGE_ERR_INGEST_PACKET_TOO_LARGE', 'MQTT packet is larger than broker.maxPacketBytes; connection closed', 413),
  EDGE_ERR_INGEST_MALFORMED_JSON: defineError('EDGE_ERR_INGEST_MALFORMED_JSON', 'payload is not valid UTF-8 JSON', 400),
  EDGE_ERR_INGEST_SCHEMA_MISMATCH: defineError('EDGE_ERR_INGEST_SCHEMA_MISMATCH', 'payload does not match the schema of its event type', 422),
  EDGE_ERR_INGEST_RATE_LIMITED: defineError('EDGE_ERR_INGEST_RATE_LIMITED', 'device exceeded its message rate; message dropped', 429),
  /** broker connections */
  EDGE_ERR_AUTH_BAD_CREDENTIALS: defineError('EDGE_ERR_AUTH_BAD_CREDENTIALS', 'CONNECT refused: unknown device or wrong secret', 401),
  EDGE_ERR_AUTH_DEVICE_DISABLED: defineError('EDGE_ERR_AUTH_DEVICE_DISABLED', 'CONNECT refused: device is disabled', 403),
  EDGE_ERR_AUTH_CLIENT_ID_MISMATCH: defineError('EDGE_ERR_AUTH_CLIENT_ID_MISMATCH', 'CONNECT refused: client id must equal the device id (username)', 400),
  EDGE_ERR_BROKER_CONNECTION_LIMIT: defineError('EDGE_ERR_BROKER_CONNECTION_LIMIT', 'CONNECT refused: broker.maxConnections reached', 503),
  /** inventory */
  EDGE_ERR_STORE_MODEL_INVALID: defineError('EDGE_ERR_STORE_MODEL_INVALID', 'store model is not valid', 422),
  EDGE_ERR_INVENTORY_NO_MODEL: defineError('EDGE_ERR_INVENTORY_NO_MODEL', 'no store model is loaded; add store.model to the config', 503),
  EDGE_ERR_INVENTORY_UNKNOWN_TRAY: defineError('EDGE_ERR_INVENTORY_UNKNOWN_TRAY', 'no tray with this id in the store model', 404),
  EDGE_ERR_INVENTORY_NOT_ON_TRAY: defineError('EDGE_ERR_INVENTORY_NOT_ON_TRAY', 'this SKU has no facing on this tray', 422),
  EDGE_ERR_ALERT_NOT_FOUND: defineError('EDGE_ERR_ALERT_NOT_FOUND', 'no alert with this id', 404),
  EDGE_ERR_ALERT_CLEARED: defineError('EDGE_ERR_ALERT_CLEARED', 'the alert is already cleared', 409),
  /** http */
  EDGE_ERR_NOT_FOUND: defineError('EDGE_ERR_NOT_FOUND', 'no such resource', 404),
  EDGE_ERR_BAD_REQUEST: defineError('EDGE_ERR_BAD_REQUEST', 'request is not valid', 400),
  /** http access (docs/dashboard.md "Access"); each refusal is counted in storeedge_http_auth_refusals_total */
  EDGE_ERR_AUTH_REQUIRED: defineError('EDGE_ERR_AUTH_REQUIRED', 'log in or send an API token', 401),
  EDGE_ERR_AUTH_INVALID: defineError('EDGE_ERR_AUTH_INVALID', 'wrong name or password', 401),
  EDGE_ERR_AUTH_THROTTLED: defineError('EDGE_ERR_AUTH_THROTTLED', 'too many failed logins; try again later', 429),
  EDGE_ERR_AUTH_NO_USERS: defineError('EDGE_ERR_AUTH_NO_USERS', 'no users are configured; add one to http.users', 503),
  EDGE_ERR_AUTH_FORBIDDEN: defineError('EDGE_ERR_AUTH_FORBIDDEN', 'your role may not do this', 403),
  EDGE_ERR_AUTH_CSRF: defineError('EDGE_ERR_AUTH_CSRF', 'the request lacks the session\'s CSRF token or comes from another site', 403),
  /** checkout (docs/checkout.md); the counted ones are rejects of device input, never a charge */
  EDGE_ERR_CHECKOUT_NOT_FOUND: defineError('EDGE_ERR_CHECKOUT_NOT_FOUND', 'no such session, receipt or review item', 404),
  EDGE_ERR_CHECKOUT_REVIEW_CLOSED: defineError('EDGE_ERR_CHECKOUT_REVIEW_CLOSED', 'the review item is already resolved', 409),
  EDGE_ERR_CHECKOUT_TOKEN_REPLAYED: defineError('EDGE_ERR_CHECKOUT_TOKEN_REPLAYED', 'a token already used for a visit was scanned again', 409),
  EDGE_ERR_CHECKOUT_UNKNOWN_GATE: defineError('EDGE_ERR_CHECKOUT_UNKNOWN_GATE', 'the gate is not a lane of the store model', 422),
  EDGE_ERR_CHECKOUT_UNKNOWN_TRACKER: defineError('EDGE_ERR_CHECKOUT_UNKNOWN_TRACKER', "the tracker is not the store's tracker", 422),
  EDGE_ERR_CHECKOUT_SESSION_CLOSED: defineError('EDGE_ERR_CHECKOUT_SESSION_CLOSED', 'evidence or a scan for a session that is closed or unknown', 409),
  EDGE_ERR_CHECKOUT_STALE_FRAME: defineError('EDGE_ERR_CHECKOUT_STALE_FRAME', 'a tracker frame older than the newest one', 422),
  EDGE_ERR_CHECKOUT_UNATTRIBUTED: defineError('EDGE_ERR_CHECKOUT_UNATTRIBUTED', 'a pick no tracked visit was at', 422),
  EDGE_ERR_CHECKOUT_VISIT_LOST: defineError('EDGE_ERR_CHECKOUT_VISIT_LOST', 'no person of a visit was seen for lostAfterMs; the visit was ended', 422),
  EDGE_ERR_CHECKOUT_UNBOUND_TRACK: defineError('EDGE_ERR_CHECKOUT_UNBOUND_TRACK', 'a person track that belongs to no visit', 422),
  EDGE_ERR_INTERNAL: defineError('EDGE_ERR_INTERNAL', 'internal error', 500),
  /** labels: delivery (docs/esl.md) */
  EDGE_ERR_LABEL_NOT_FOUND: defineError('EDGE_ERR_LABEL_NOT_FOUND', 'no shelf label with this tag id in the store model', 404),
  EDGE_ERR_LABEL_NOT_CONFIRMED: defineError('EDGE_ERR_LABEL_NOT_CONFIRMED', 'the tag has not confirmed any content the agent rendered', 404),
  EDGE_ERR_LABEL_FLASH_LIMITED: defineError('EDGE_ERR_LABEL_FLASH_LIMITED', "the tag's LED flash budget is used up for now", 429),
  EDGE_ERR_LABEL_NO_PRICE: defineError('EDGE_ERR_LABEL_NO_PRICE', "the label's SKU has no price; nothing to show", 422),
  EDGE_ERR_LABEL_RENDER_FAILED: defineError('EDGE_ERR_LABEL_RENDER_FAILED', 'rendering a label failed', 500),
  EDGE_ERR_LABEL_REFUSED: defineError('EDGE_ERR_LABEL_REFUSED', 'a gateway refused or failed a label image', 502),
  /** labels: rendering (docs/labels-rendering.md); a worker crash or sharp failure is EDGE_ERR_LABEL_RENDER_FAILED above */
  EDGE_ERR_LABEL_CONTENT_INVALID: defineError('EDGE_ERR_LABEL_CONTENT_INVALID', 'label content is not valid', 422),
  EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN: defineError('EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN', 'no tag type with this id', 422),
  EDGE_ERR_LABEL_GLYPH_MISSING: defineError('EDGE_ERR_LABEL_GLYPH_MISSING', 'the label fonts have no glyph for a character of the text', 422),
  EDGE_ERR_LABEL_IMAGE_INVALID: defineError('EDGE_ERR_LABEL_IMAGE_INVALID', 'the encoded label image does not decode for its tag type', 422),
  EDGE_ERR_LABEL_RENDER_QUEUE_FULL: defineError('EDGE_ERR_LABEL_RENDER_QUEUE_FULL', 'the label render queue is full; try again later', 503),
  EDGE_ERR_LABEL_RENDERER_CLOSED: defineError('EDGE_ERR_LABEL_RENDERER_CLOSED', 'the label renderer is closed', 503),
  /** pricing: price book (docs/pricing.md) */
  EDGE_ERR_PRICE_UNKNOWN_SKU: defineError('EDGE_ERR_PRICE_UNKNOWN_SKU', 'the SKU has no price in the price book at that instant', 404),
  EDGE_ERR_PRICE_INVALID: defineError('EDGE_ERR_PRICE_INVALID', 'a price, promotion list or markdown rule is not valid', 422),
  EDGE_ERR_PRICE_RETROACTIVE: defineError('EDGE_ERR_PRICE_RETROACTIVE', 'a price change cannot take effect before now', 422),
  EDGE_ERR_PRICE_CURRENCY_MISMATCH: defineError('EDGE_ERR_PRICE_CURRENCY_MISMATCH', 'the SKU is priced in another currency', 422),
  /** orders: click & collect (docs/sync.md "Online orders") */
  EDGE_ERR_ORDER_NOT_FOUND: defineError('EDGE_ERR_ORDER_NOT_FOUND', 'no order with this id', 404),
  EDGE_ERR_ORDER_STATE: defineError('EDGE_ERR_ORDER_STATE', 'the order is not in a state that allows this step', 409),
  EDGE_ERR_ORDER_PICK_INVALID: defineError('EDGE_ERR_ORDER_PICK_INVALID', 'the picked lines do not match the order', 422),
  /** cli */
  EDGE_ERR_CLI_USAGE: defineError('EDGE_ERR_CLI_USAGE', 'command line is not valid', 2),
  EDGE_ERR_SIM_UPSTREAM_BROKER: defineError('EDGE_ERR_SIM_UPSTREAM_BROKER', "the scenario's upstream broker (Mosquitto) is not installed or did not start", 500),
} as const;

export type EdgeErrorCode = keyof typeof errors;
