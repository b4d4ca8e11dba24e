/**
 * MQTT topics of the gateway ↔ cloud contract, version 1.
 * Every topic lives under `homebed/v1/gw/{gatewayId}/{kind}`.
 */
export const TOPIC_ROOT = 'homebed/v1/gw';

/** Messages a gateway sends to the cloud. */
export const GATEWAY_TO_CLOUD = ['alarm', 'heartbeat', 'status', 'event'] as const;
/** Messages the cloud sends to a gateway. */
export const CLOUD_TO_GATEWAY = ['ack', 'cmd'] as const;

export type GatewayToCloudKind = (typeof GATEWAY_TO_CLOUD)[number];
export type CloudToGatewayKind = (typeof CLOUD_TO_GATEWAY)[number];
export type TopicKind = GatewayToCloudKind | CloudToGatewayKind;

/** Gateway ids are also MQTT client ids and topic levels: keep them plain. */
export const GATEWAY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function gatewayTopic(gatewayId: string, kind: TopicKind): string {
  if (!GATEWAY_ID_PATTERN.test(gatewayId))
    throw new Error(`invalid gateway id for a topic: ${JSON.stringify(gatewayId)}`);
  return `${TOPIC_ROOT}/${gatewayId}/${kind}`;
}

/** Subscription filter for one kind of message from every gateway (`homebed/v1/gw/+/alarm`). */
export function allGatewaysFilter(kind: TopicKind): string {
  return `${TOPIC_ROOT}/+/${kind}`;
}

export interface ParsedTopic {
  gatewayId: string;
  kind: TopicKind;
}

const KINDS: ReadonlySet<string> = new Set<string>([...GATEWAY_TO_CLOUD, ...CLOUD_TO_GATEWAY]);

/** Parse a contract topic; `null` for anything that is not exactly one. */
export function parseGatewayTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5) return null;
  const [a, b, c, gatewayId, kind] = parts;
  if (`${a}/${b}/${c}` !== TOPIC_ROOT || !gatewayId || !kind) return null;
  if (!GATEWAY_ID_PATTERN.test(gatewayId) || !KINDS.has(kind)) return null;
  return { gatewayId, kind: kind as TopicKind };
}

export function isGatewayToCloud(kind: TopicKind): kind is GatewayToCloudKind {
  return (GATEWAY_TO_CLOUD as readonly string[]).includes(kind);
}
