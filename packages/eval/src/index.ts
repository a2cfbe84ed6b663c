export { evaluateCaptions, EVAL_METRIC_NAMES } from './evaluate-captions';
export { checkMetricIds } from './plugin-metrics';
export type {
  CaptionEvaluation,
  CaptionPerImageScores,
  CaptionScores,
  CocoCaptionAnnotations,
  CocoCaptionResult,
  DroppedEntry,
  EvalMetricName,
  EvaluateCaptionsOptions,
  ImageId,
  MetricId,
  ScoreName,
} from './evaluate-captions';
export { ptbTokenize } from './tokenizer/ptb-tokenizer';
export { bleuFromStats } from './metrics/bleu-scorer';
export type { BleuStats } from './metrics/bleu-scorer';
export { runMeteor } from './external/meteor-scorer';
export type { MeteorOptions } from './external/meteor-scorer';
export { runSpice } from './external/spice-scorer';
export type { SpiceOptions, SpiceResult } from './external/spice-scorer';
export { captionDiversity } from './diversity/caption-diversity';
export type { CaptionDiversity, CaptionDiversityOptions, DiversityConcept } from './diversity/caption-diversity';
export { readJsonFile, splitCaptionPairs } from './io/coco-files';
export type { CaptionPair } from './io/coco-files';
export { runCli } from './cli/run-cli';
export type { CliIo } from './cli/run-cli';
export { pairedBootstrap } from './stats/paired-bootstrap';
export type { PairedBootstrap, PairedBootstrapOptions } from './stats/paired-bootstrap';
export { pairedBootstrapSummary } from './stats/bootstrap-summary';
export type { BootstrapSummary } from './stats/bootstrap-summary';
