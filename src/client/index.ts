/**
 * @module client
 * `vexil/client`: in-process flag evaluation for Node applications (see vexil-client.ts). The
 * OpenFeature provider is its own entry, `vexil/client/openfeature`, so applications without
 * OpenFeature need not install it.
 */
export { VexilClient, type ClientFlag, type EvaluationInput, type VexilClientOptions } from './vexil-client.ts';
export { readEvents, type StreamEvent } from './sse-parse.ts';
