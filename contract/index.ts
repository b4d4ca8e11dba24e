export * from './alarm-vocabulary.js';
export * from './payloads.js';
export * from './topics.js';
