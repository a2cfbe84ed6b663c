import { hasFullReference, type PipelineConfig } from '../config';

/** The stages of `synth2 run`, in order. */
export const STAGES = [
  'data',
  'tokenizer',
  'generator',
  'captions',
  'generate',
  'vlm-baseline',
  'vlm-synth2',
  'vlm-full',
  'evaluate',
  'report',
] as const;
/** The name of a pipeline stage. */
export type StageName = (typeof STAGES)[number];

/** The stages each stage needs finished before it starts. */
export const DEPENDS: Record<StageName, StageName[]> = {
  data: [],
  tokenizer: ['data'],
  generator: ['tokenizer'],
  captions: ['data'],
  generate: ['generator', 'captions'],
  'vlm-baseline': ['tokenizer'],
  'vlm-synth2': ['tokenizer', 'generate'],
  'vlm-full': ['tokenizer'],
  evaluate: ['vlm-baseline', 'vlm-synth2', 'captions'],
  report: ['evaluate'],
};

/**
 * What each stage reads of the finished stages — a whole stage, or one path in it — checked against the SHA-256 in
 * the run manifest before it starts. `vlm-full` counts only when the config has it; `generate` also reads the
 * baseline VLM when it re-ranks.
 */
const READS: Record<StageName, (StageName | `${StageName}/${string}`)[]> = {
  data: [],
  tokenizer: ['data'],
  generator: ['data', 'tokenizer'],
  captions: ['data'],
  generate: ['data', 'tokenizer', 'generator', 'captions'],
  'vlm-baseline': ['data', 'tokenizer'],
  'vlm-synth2': ['data', 'tokenizer', 'captions', 'generate'],
  'vlm-full': ['data', 'tokenizer'],
  evaluate: ['data', 'tokenizer', 'captions', 'vlm-baseline', 'vlm-synth2', 'vlm-full'],
  report: [
    'data',
    'generate/gallery.json',
    'vlm-baseline/metrics.jsonl',
    'vlm-synth2/metrics.jsonl',
    'vlm-full/metrics.jsonl',
    'evaluate',
  ],
};

/** `generate.candidates` are re-ranked by the baseline VLM: the generate stage needs that VLM. */
export const rerankedByVlm = (config: PipelineConfig): boolean => config.generate.candidates > 1;

/** The stage graph of one config: its stages, what each needs and what each reads. */
export interface StageGraph {
  stages: StageName[];
  deps: (stage: StageName) => StageName[];
  reads: (stage: StageName) => string[];
}

/** The stage graph of a config (`vlm-full` only with a full-human reference; re-ranking adds `vlm-baseline`). */
export function stageGraph(config: PipelineConfig): StageGraph {
  const wantFull = hasFullReference(config);
  const stages = STAGES.filter((s) => s !== 'vlm-full' || wantFull);
  const rerank = rerankedByVlm(config);
  return {
    stages,
    deps: (s) =>
      DEPENDS[s]
        .filter((d) => stages.includes(d))
        .concat(s === 'evaluate' && wantFull ? ['vlm-full'] : [])
        .concat(s === 'generate' && rerank ? ['vlm-baseline'] : []),
    reads: (s) =>
      READS[s]
        .filter((d) => stages.includes(d.split('/')[0] as StageName))
        .concat(s === 'generate' && rerank ? ['vlm-baseline'] : []),
  };
}

/** `until` and the stages it needs (all stages without `until`), in pipeline order. */
export function stagesToRun(graph: StageGraph, until: StageName | StageName[] | undefined): StageName[] {
  if (!until) return graph.stages;
  const needed = new Set<StageName>();
  const need = (s: StageName) => {
    if (needed.has(s)) return;
    needed.add(s);
    graph.deps(s).forEach(need);
  };
  [until].flat().forEach(need);
  return graph.stages.filter((s) => needed.has(s));
}

/** `stage` and every stage that uses its outputs, directly or through others, in pipeline order. */
export function withDependants(stage: StageName, graph: StageGraph): StageName[] {
  const out = new Set<StageName>([stage]);
  // to a fixed point: a stage may depend on one listed after it (generate on vlm-baseline when it re-ranks)
  for (let grew = true; grew;) {
    grew = false;
    for (const s of graph.stages) {
      if (!out.has(s) && graph.deps(s).some((d) => out.has(d))) {
        out.add(s);
        grew = true;
      }
    }
  }
  return graph.stages.filter((s) => out.has(s));
}
