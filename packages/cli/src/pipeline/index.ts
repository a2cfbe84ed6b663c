export { runPipeline } from './run-pipeline';
export type { PipelineOptions } from './run-pipeline';
export { runStageBody } from './child';
export { STAGES } from './graph';
export type { StageName } from './graph';
export { resolveCaptionSource } from '../stages';
