import { DEPENDS } from '../pipeline/graph';
import type { QueuedStageContext } from '../queued-stages';
import type { StageRunContext } from './context';

/** What a queued stage needs: the run, and the settings hashes of its inputs (new inputs → new job ids). */
export function queueContext(ctx: StageRunContext, stage: 'captions' | 'generate'): QueuedStageContext {
  const inputs = DEPENDS[stage].map((d) => [d, ctx.run.stage(d)?.configHash]);
  return {
    config: ctx.config,
    root: ctx.run.root,
    reporter: ctx.reporter,
    abortSignal: ctx.abortSignal,
    inputs,
  };
}
