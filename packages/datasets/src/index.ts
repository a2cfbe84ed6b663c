export {
  shapesInventory,
  SHAPE_NAMES,
  COLOR_NAMES,
  SIZE_NAMES,
  BACKGROUND_NAMES,
  POSITION_NAMES,
  RELATION_NAMES,
} from './shapes/inventory';
export type {
  ShapeName,
  ColorName,
  SizeName,
  BackgroundName,
  PositionName,
  RelationName,
} from './shapes/inventory';
export { sampleScene, regionOf } from './shapes/scene';
export type { Scene, SceneObject, SceneBackground, PairConstraint } from './shapes/scene';
export { renderScene, renderSceneFloat, toFloat32 } from './shapes/render';
export { captionScene } from './shapes/captions';
export { checkCaption, parseCaption, mentionedPairs } from './shapes/caption-checker';
export type { CaptionCheck, CaptionMention, ParsedCaption } from './shapes/caption-checker';
export { createShapesWorld, sceneConcepts, ShapesWorldOptionsSchema } from './shapes/shapes-world';
export type { ShapesWorld, ShapesWorldOptions, ResolvedShapesWorldOptions, ShapesItem } from './shapes/shapes-world';
export { makeSplits, chooseHeldOutPairs } from './shapes/splits';
export type {
  MakeSplitsOptions,
  ShapesSplit,
  ShapesSplits,
  ShapesSplitManifest,
  SplitName,
  ColorShapePair,
} from './shapes/splits';
export { exportCocoFolder } from './folders/coco-export';
export type { ExportCocoOptions, ExportCocoResult } from './folders/coco-export';
export { loadCocoFolder, findCocoSources, CocoCaptionsSchema } from './folders/coco-folder';
export type { CocoSource, CocoCaptions } from './folders/coco-folder';
export { loadFlickrFolder } from './folders/flickr-folder';
export type { FlickrSource } from './folders/flickr-folder';
export { loadJsonlManifest, JsonlManifestLineSchema } from './folders/jsonl-manifest';
export type { JsonlManifestOptions } from './folders/jsonl-manifest';
export { PairStream } from './folders/pair-stream';
export type { FolderLoadOptions, LoadedPair, LoadReport, SkippedEntry, EntryProblem } from './folders/pair-stream';
export { parseCsv } from './folders/csv';
export {
  colorShapePairConcepts,
  heldOutPairRecall,
  heldOutPairSet,
  objectNaming,
  pairGapCounts,
  pairMentionCounts,
  shapesItemMeta,
} from './shapes/experiment';
export type { CaptionedScene, ObjectNaming } from './shapes/experiment';
export { ObjectLabelSchema, ShapesItemMetaSchema, ShapesSplitManifestSchema } from './shapes/split-files';
export type { ObjectLabel, ShapesItemMeta } from './shapes/split-files';
