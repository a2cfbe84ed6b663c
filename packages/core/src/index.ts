export * from './errors';
export * from './rng';
export * from './schemas';
export * from './io';
export * from './registry';
export * from './vocab';
export * from './images';
export { fetchBytes, fetchText } from './io/fetch-bytes';
