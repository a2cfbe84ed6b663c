export * from './tf';
export * from './nn';
export * from './train';
