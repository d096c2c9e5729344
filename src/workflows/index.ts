// Every workflow the worker registers. The bundler starts here.
export { release } from './release.js';
export { stackSmoke } from './smoke.js';
export { serving } from './serving.js';
