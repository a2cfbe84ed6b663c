export * from './records';
export type * from './caption-source';
