/**
 * The floor of the capacity benchmark (bench/capacity.ts): the same broker with a consumer that does
 * nothing but answer each alarm with a `stored` ack at once — no validation, no store, no fsync. Run in
 * its own process, as the relay is:
 *
 *   tsx bench/lib/fleet-echo.ts aedes <port>
 *     a bare aedes (anonymous logins) whose `published` hook publishes the ack, the place the relay's
 *     embedded broker hands a message to its ingress;
 *   ECHO_PASSWORD=… tsx bench/lib/fleet-echo.ts mqtt <url> <username> <clientId> <shareGroup>
 *     an MQTT 5 client of an external broker, subscribed like the relay (`$share/<group>/…/+/alarm`,
 *     heartbeat, status, event) with a clean session (so it also discards whatever session the relay left
 *     under that client id).
 *
 * Prints `echo ready port=<port>` once it serves.
 */
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { closeAedes, listenAedes } from '../../common/aedes-server.js';

const ALARM_TOPIC = /^homebed\/v1\/gw\/([^/]+)\/alarm$/;

function ackFor(topic: string, payload: Buffer): { topic: string; payload: string } | null {
  const match = ALARM_TOPIC.exec(topic);
  if (!match) return null;
  let id: unknown;
  try {
    id = (JSON.parse(payload.toString('utf8')) as { id?: unknown }).id;
  } catch {
    return null;
  }
  if (typeof id !== 'string') return null;
  return {
    topic: `homebed/v1/gw/${match[1]}/ack`,
    payload: JSON.stringify({ v: 1, alarmId: id, status: 'stored', at: new Date().toISOString() }),
  };
}

async function serveAedes(port: number): Promise<() => Promise<void>> {
  const broker = await Aedes.createBroker({
    published: (packet, client, done) => {
      const ack = client ? ackFor(packet.topic, packet.payload as Buffer) : null;
      if (!ack) return done();
      broker.publish(
        {
          cmd: 'publish',
          topic: ack.topic,
          payload: Buffer.from(ack.payload),
          qos: 1,
          retain: false,
          dup: false,
        },
        () => done(),
      );
    },
  });
  const { server, port: bound } = await listenAedes(broker, '127.0.0.1', port);
  process.stdout.write(`echo ready port=${bound}\n`);
  return () => closeAedes(broker, server);
}

async function serveMqtt(
  url: string,
  username: string,
  clientId: string,
  group: string,
): Promise<() => Promise<void>> {
  const client = await mqtt.connectAsync(url, {
    clientId,
    username,
    password: process.env.ECHO_PASSWORD ?? '',
    protocolVersion: 5,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 0,
  });
  client.on('message', (topic, payload) => {
    const ack = ackFor(topic, payload);
    if (ack) client.publish(ack.topic, ack.payload, { qos: 1 });
  });
  const kinds = ['alarm', 'heartbeat', 'status', 'event'];
  await client.subscribeAsync(
    kinds.map((kind) => `$share/${group}/homebed/v1/gw/+/${kind}`),
    { qos: 1 },
  );
  process.stdout.write(`echo ready port=${new URL(url).port}\n`);
  return () => client.endAsync();
}

const [mode, ...args] = process.argv.slice(2);
let stop: () => Promise<void>;
if (mode === 'aedes') stop = await serveAedes(Number(args[0] ?? 0));
else if (mode === 'mqtt' && args.length === 4) {
  const [url, username, clientId, group] = args as [string, string, string, string];
  stop = await serveMqtt(url, username, clientId, group);
} else {
  process.stderr.write(
    'usage: fleet-echo.ts aedes <port> | fleet-echo.ts mqtt <url> <username> <clientId> <group>\n',
  );
  process.exit(2);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void stop().finally(() => process.exit(0));
  });
}
