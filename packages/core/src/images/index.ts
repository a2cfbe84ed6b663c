export { loadImage, decodeImage, readImageBytes, encodePng, saveImageGrid } from './images';
export type { ImageTensor, LoadImageOptions, ImageGridOptions } from './images';
