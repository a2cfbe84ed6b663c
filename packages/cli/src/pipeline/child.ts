import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, throwIfAborted } from '@synth2/core';
import { describeBackend, initBackend } from '@synth2/nn';
import { z } from 'zod';
import type { PipelineConfig } from '../config';
import type { Reporter } from '../reporter';
import { RunDirectory } from '../run-directory';
import { STAGE_BODIES, type StageRunContext } from '../stages';
import type { StageOutcomeBody } from '../stages/context';
import { STAGES, type StageName } from './graph';
import { THREADED_STAGES } from './threads';

/** The lines a stage's child process prints on stdout (JSON, one per line): progress, logs, and its outcome. */
const ChildLineSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    stage: z.string(),
    done: z.number(),
    total: z.number(),
    unit: z.string(),
    info: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
  }),
  z.object({ type: z.literal('log'), message: z.string() }),
  z.object({
    type: z.literal('stage-outcome'),
    outcome: z.object({
      outputs: z.array(z.string()).optional(),
      summary: z.record(z.string(), z.json()).optional(),
    }),
  }),
]);

/** Passes one stdout line of a child to the reporter; returns the stage outcome when the line carries it. */
function forwardChildLine(reporter: Reporter, line: string): StageOutcomeBody | undefined {
  if (!line.startsWith('{')) return undefined;
  const parsed = ChildLineSchema.safeParse(JSON.parse(line));
  if (!parsed.success) return undefined;
  const e = parsed.data;
  if (e.type === 'progress') reporter.progress(e);
  else if (e.type === 'log') reporter.log(e.message);
  else return e.outcome;
  return undefined;
}

function cliDistDir(): string {
  // the build shims import.meta.url in CommonJS (tsup `shims`)
  return dirname(fileURLToPath(import.meta.url));
}

/** Runs one stage's body in a child process (`synth2 _stage`), forwarding its progress and logs. */
export async function runStageInChild(
  ctx: StageRunContext,
  stage: StageName,
  resuming: boolean,
  threads?: number,
): Promise<StageOutcomeBody> {
  const bin = join(cliDistDir(), 'bin.js');
  const child = spawn(
    process.execPath,
    [bin, '_stage', stage, '--out', ctx.run.root, '--config', JSON.stringify(ctx.config)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SYNTH2_RESUMING: resuming ? '1' : '0',
        ...(threads ? { SYNTH2_THREADS: String(threads) } : {}),
      },
    },
  );
  const onAbort = () => child.kill('SIGINT');
  ctx.abortSignal?.addEventListener('abort', onAbort, { once: true });
  let result: StageOutcomeBody | undefined;
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) result = forwardChildLine(ctx.reporter, line) ?? result;
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  ctx.abortSignal?.removeEventListener('abort', onAbort);
  if (code !== 0 || !result) {
    throw new Error(
      `stage ${stage} failed in its worker process (exit ${code}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`,
    );
  }
  return result;
}

/** The child side of {@link runStageInChild}: runs one stage body against a read-only view of the run. */
export async function runStageBody(
  config: PipelineConfig,
  root: string,
  stage: StageName,
  reporter: Reporter,
  abortSignal?: AbortSignal,
) {
  const backend = await initBackend({ log: () => {} });
  // a stage given wasm threads says whether it got them (or why not)
  if (THREADED_STAGES.has(stage) && Number(process.env.SYNTH2_THREADS) > 1)
    reporter.log(`${stage}: ${describeBackend(backend)}`);
  const run = await RunDirectory.view(root);
  const body = STAGE_BODIES[stage];
  if (!body) throw new ConfigurationError(`unknown stage "${stage}"; stages: ${STAGES.join(', ')}`);
  const outcome = await body({ config, run, reporter, abortSignal }, join(root, stage));
  throwIfAborted(abortSignal);
  return outcome;
}
