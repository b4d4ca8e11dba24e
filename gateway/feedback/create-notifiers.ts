import type { Logger } from '../../common/logger.js';
import type { NotifierConfig } from '../config/feedback-schema.js';
import { LocalSound } from './local-sound.js';
import { LogNotifier, type ResidentNotifier } from './resident-notifier.js';
import { RflinkChime } from './rflink-chime.js';

/** Something bytes can be written to: a `SerialLink` (false when the port is not open). */
export interface WritableLink {
  write(bytes: Uint8Array): boolean;
}

/**
 * The outputs of `feedback.notifiers`. `links` are the gateway's serial
 * links by port id; an `rflink` output writes through its link at the time of
 * the call, so a port that reopens later is used as soon as it is back.
 *
 * @throws Error when an `rflink` output names a port that is not in `links`.
 */
export function createNotifiers(
  configs: readonly NotifierConfig[],
  links: ReadonlyMap<string, WritableLink>,
  logger: Logger,
): ResidentNotifier[] {
  const used = new Map<string, number>();
  const unique = (name: string) => {
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    return n === 1 ? name : `${name}#${n}`;
  };
  return configs.map((config): ResidentNotifier => {
    switch (config.type) {
      case 'rflink': {
        const link = links.get(config.link);
        if (!link) throw new Error(`feedback: no serial port "${config.link}" for the rflink output`);
        return new RflinkChime({
          name: config.name ?? unique(`rflink:${config.link}`),
          command: config.command,
          write: (bytes) => link.write(bytes),
          ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
        });
      }
      case 'sound':
        return new LocalSound({
          name: config.name ?? unique(`sound:${config.command[0]}`),
          command: config.command,
          timeoutMs: config.timeoutMs,
        });
      default:
        return new LogNotifier(logger.child({ component: 'feedback' }), config.name ?? unique('log'));
    }
  });
}
