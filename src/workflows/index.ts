// Every workflow the worker registers. The bundler starts here.
export { stackSmoke } from './smoke.js';
