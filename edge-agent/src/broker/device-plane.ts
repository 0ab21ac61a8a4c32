/**
 * What the agent needs from the MQTT device plane, whichever broker carries it: the embedded
 * aedes broker or an external one the agent joins as a client. Same topics either way.
 */
export interface DevicePlane {
  start(): Promise<BrokerAddresses>;
  close(): Promise<void>;
  /** Publishes a command to one device: `…/dev/{deviceId}/cmd/{type}`. */
  publishCommand(deviceId: string, type: string, payload: unknown, options?: { qos?: 0 | 1 }): Promise<void>;
  /** Publishes to an integration stream: `…/out/{stream}`. */
  publishOut(stream: string, payload: unknown, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /** Re-checks connected devices against the registry (disabled or rotated ones are disconnected). */
  reconcile(): void;
  connectedClients(): number;
}

export interface BrokerAddresses {
  mode: 'embedded' | 'external';
  mqtt?: string;
  ws?: string;
  mqtts?: string;
  external?: string;
}
