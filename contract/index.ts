export * from './alarm-vocabulary.js';
export * from './events.js';
export * from './native-device.js';
export * from './payloads.js';
export * from './topics.js';
