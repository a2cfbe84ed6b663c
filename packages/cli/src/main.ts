import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigurationError, Synth2Error, readJsonlAll, readJson, CaptionRecordSchema } from '@synth2/core';
import { extractOverrides, readConfigFile, resolveConfig, type PipelineConfig } from './config';
import { Reporter, type OutputMode } from './reporter';
import type { StageName } from './pipeline/index';
import { importQueue } from './queued-stages';

const VERSION = '0.1.0';

interface CommonOptions {
  out?: string;
  seed?: string;
  humanFraction?: string;
  queue?: string;
  quiet?: boolean;
  json?: boolean;
  redo?: string[];
  allowPluginPaths?: boolean;
}

/** Commander's accumulator for repeatable options. */
function collect(value: string, all: string[]): string[] {
  return [...all, value];
}

/** `synth2 worker --endpoint NAME=URL …` as the worker's named endpoints. */
export function parseEndpoints(entries: readonly string[]): Record<string, string> {
  const endpoints: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq) : '';
    const url = entry.slice(eq + 1);
    if (!name || !/^https?:\/\/\S+$/.test(url)) {
      throw new ConfigurationError(
        `--endpoint "${entry}" is not NAME=URL with an http(s) URL, e.g. --endpoint local=http://127.0.0.1:8000/v1`,
        { setting: 'endpoint' },
      );
    }
    endpoints[name] = url;
  }
  return endpoints;
}

function outputMode(o: CommonOptions): OutputMode {
  return o.json ? 'json' : o.quiet ? 'quiet' : 'pretty';
}

async function loadPipelineConfig(file: string | undefined, o: CommonOptions, overrides: Record<string, unknown>): Promise<PipelineConfig> {
  const raw = file ? await readConfigFile(file) : {};
  const all = { ...overrides };
  if (o.seed !== undefined) all.seed = Number(o.seed);
  if (o.humanFraction !== undefined) all['data.humanFraction'] = Number(o.humanFraction);
  if (o.queue !== undefined) all['queue.url'] = o.queue;
  return resolveConfig(raw, all, file ?? 'defaults');
}

function defaultOut(config: PipelineConfig): string {
  const hf = config.data.humanFraction < 1 ? `-hf${config.data.humanFraction}` : '';
  return join('runs', `${config.data.source === 'shapes' ? 'shapes' : basename(config.data.source)}-seed${config.seed}${hf}`);
}

/** The dotted-flag examples of `--help` (each one parses: see config.test.ts). */
export const HELP_EXAMPLES = [
  '--data.train 500 --vlm.steps 1000 --captions.source grammar --generator.steps 2000',
  '--tokenizer.codebookSize 256 --vlm.dim 128 --vlm.decoder.layers 3 --eval.beamSize 1',
  '--captions.grammar.synonymProbability 0.5 --captions.openai.temperature 0.7',
];

const pipelineHelp = `
Every config value can be overridden with a dotted flag, e.g.
${HELP_EXAMPLES.map((e) => `  ${e}`).join('\n')}
tokenizer, generator and vlm take their model's settings and training settings (steps, batchSize, lr, …) side by
side; an unknown key is an error that names the nearest valid one. Caption source settings go under
captions.grammar (offline grammar), captions.openai (OpenAI-compatible LLM) or captions.options (a plugin).
Finished stages are skipped when re-run with the same settings (after checking their files' SHA-256); an
interrupted run resumes; changing a stage's settings reruns that stage and the ones after it; --redo <stage>
redoes a stage and the ones after it. --out must be a new or empty folder, or a run directory synth2 made.`;

/** `--queue <url>`: caption synthesis and embedding generation as jobs for `synth2 worker` processes. */
function addQueueOption(cmd: Command): Command {
  return cmd.option(
    '--queue <url>',
    'run caption synthesis and embedding generation on this Redis queue, drained by `synth2 worker` processes (needs @synth2/queue; config key queue: { url, name, stages })',
  );
}

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('-o, --out <dir>', 'run directory (default: runs/<source>-seed<seed>)')
    .option('--seed <n>', 'seed of every stage (default 1)')
    .option('--human-fraction <f>', 'share of the human train split to use (the data-efficiency comparison), e.g. 0.25')
    .option('--redo <stage>', 'redo this stage and every stage after it, even if it finished (repeatable)', collect, [])
    .option('--allow-plugin-paths', 'let the config\'s plugins name local files (paths, file: URLs); by default only installed package names are loaded')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--json', 'print events as JSON lines (for scripts)')
    .addHelpText('after', pipelineHelp);
}

/** The command that was run, with `--redo <stage>` instead of any `--redo` it had (quoted for a POSIX shell). */
export function redoCommandFor(argv: readonly string[]): (stage: string) => string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--redo') i++;
    else if (!argv[i].startsWith('--redo=')) kept.push(argv[i]);
  }
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return (stage) => ['synth2', ...kept, '--redo', stage].map(quote).join(' ');
}

async function runStages(
  file: string | undefined,
  o: CommonOptions,
  overrides: Record<string, unknown>,
  until: StageName | StageName[] | undefined,
  argv: readonly string[],
): Promise<number> {
  const config = await loadPipelineConfig(file, o, overrides);
  // a data folder no loader reads is refused before the run directory is made
  if (config.data.source !== 'shapes') (await import('./real-data')).detectFolderFormat(config.data.source);
  const reporter = new Reporter(outputMode(o));
  const out = resolve(o.out ?? defaultOut(config));
  const { runPipeline } = await import('./pipeline/index');
  const abort = new AbortController();
  const onSignal = () => {
    reporter.log('interrupted: stopping after the current step; run the same command again to resume');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  try {
    await runPipeline(config, {
      out,
      reporter,
      until,
      abortSignal: abort.signal,
      redo: o.redo as StageName[] | undefined,
      allowPluginPaths: o.allowPluginPaths,
      redoCommand: redoCommandFor(argv),
    });
  } finally {
    process.off('SIGINT', onSignal);
    reporter.stopBar();
  }
  if (!until) {
    if (reporter.mode === 'json') process.stdout.write(`${JSON.stringify({ type: 'done', out, results: join(out, 'results.json'), report: join(out, 'report.html') })}\n`);
    else if (reporter.mode === 'pretty') process.stderr.write(`\nresults: ${join(out, 'results.json')}\nreport:  ${join(out, 'report.html')}\n`);
  }
  return 0;
}

/** Builds the `synth2` program. `overrides` are the dotted config flags taken out of argv beforehand. */
export function buildProgram(
  overrides: Record<string, unknown>,
  io: { out: (t: string) => void; err: (t: string) => void },
  state: { code: number } = { code: 0 },
  argv: readonly string[] = [],
): Command {
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) =>
    async (...args: A) => {
      state.code = (await fn(...args)) ?? 0;
    };
  const program = new Command('synth2')
    .description('Synth²: train vision-language models with synthetic captions and image embeddings')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  addQueueOption(addCommonOptions(
    program
      .command('run')
      .description('run the whole Synth² experiment (data → tokenizer → generator → captions → embeddings → two VLMs → eval → report)')
      .argument('[config]', 'JSON or YAML config file (all values have defaults)'),
  )).action(act((file: string | undefined, o: CommonOptions) => runStages(file, o, overrides, undefined, argv)));

  addQueueOption(addCommonOptions(
    program.command('captions').description('synthesize captions from concepts (and the stages before it)').argument('[config]', 'config file'),
  )).action(act((file: string | undefined, o: CommonOptions) => runStages(file, o, overrides, 'captions', argv)));

  const tokenizer = program.command('tokenizer').description('the VQ image tokenizer');
  addCommonOptions(tokenizer.command('train').description('train the VQ tokenizer on the human train split').argument('[config]', 'config file')).action(act(
    (file: string | undefined, o: CommonOptions) => runStages(file, o, overrides, 'tokenizer', argv),
  ));
  const generator = program.command('generator').description('the caption → image-token generator');
  addCommonOptions(generator.command('train').description('train the generator on human pairs (and the tokenizer first)').argument('[config]', 'config file')).action(act(
    (file: string | undefined, o: CommonOptions) => runStages(file, o, overrides, 'generator', argv),
  ));
  addQueueOption(addCommonOptions(
    program.command('generate').description('generate image embeddings for the synthetic captions (and the stages before it)').argument('[config]', 'config file'),
  )).action(act((file: string | undefined, o: CommonOptions) => runStages(file, o, overrides, 'generate', argv)));
  const vlm = program.command('vlm').description('the captioning VLM');
  addCommonOptions(vlm.command('train').description('train the baseline and the Synth² VLM (and the stages before them)').argument('[config]', 'config file')).action(act(
    (file: string | undefined, o: CommonOptions) => runStages(file, o, overrides, ['vlm-baseline', 'vlm-synth2'], argv),
  ));

  program
    .command('_stage', { hidden: true })
    .description('internal: run one stage of a run directory in this process (used for parallel stages)')
    .argument('<stage>')
    .requiredOption('--out <dir>')
    .requiredOption('--config <json>')
    .action(
      act(async (stage: string, o: { out: string; config: string }) => {
        const { runStageBody } = await import('./pipeline/index');
        const config = resolveConfig(JSON.parse(o.config));
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const reporter = new Reporter('json', process.stdout);
        const outcome = await runStageBody(config, o.out, stage as StageName, reporter, abort.signal);
        process.stdout.write(`${JSON.stringify({ type: 'stage-outcome', outcome: outcome ?? {} })}\n`);
        return 0;
      }),
    );

  program
    .command('caption')
    .description('caption image files with a trained VLM and tokenizer')
    .requiredOption('--run <dir>', 'a run directory with a trained tokenizer and VLM')
    .option('--model <name>', 'which VLM of the run: synth2 or baseline', 'synth2')
    .option('--beam <n>', 'beam size (1 = greedy)', '1')
    .option('--json', 'print JSON lines')
    .argument('<images...>', 'image files or folders')
    .action(act(async (images: string[], o: { run: string; model: string; beam: string; json?: boolean }) => {
      const { captionImageFiles } = await import('./caption-images');
      const results = await captionImageFiles({ run: o.run, model: o.model, beam: Number(o.beam), images: await expandImages(images) });
      for (const r of results) io.out(o.json ? `${JSON.stringify(r)}\n` : `${r.image}\t${r.caption}\n`);
      return 0;
    }));

  program
    .command('export')
    .description('write a static folder that runs the run\'s models in a browser (the studio page, checkpoints, test images, results)')
    .argument('<run>', 'a finished run directory')
    .requiredOption('--out <folder>', 'the folder to write (new, empty, or a previous export)')
    .option('--studio <dir>', 'the built studio page (default: the one beside the CLI or examples/studio/dist)')
    .option('--float16 <mode>', 'auto (float16 where outputs stay within tolerance) or never', 'auto')
    .action(act(async (run: string, o: { out: string; studio?: string; float16: string }) => {
      const { exportRun } = await import('./export');
      const manifest = await exportRun({ run, out: o.out, studio: o.studio, float16: o.float16 === 'never' ? 'never' : 'auto', log: (m) => io.err(`${m}\n`) });
      io.out(`${resolve(o.out)}\t${manifest.files.length} files\n`);
      return 0;
    }));

  program
    .command('eval')
    .description('COCO caption evaluation (BLEU, ROUGE-L, CIDEr; plugin metrics with --plugin PACKAGE --metrics ID) of a results file; same options as synth2-eval')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(act(async (args: string[]) => {
      const { runCli } = await import('@synth2/eval');
      return runCli(args, { stdout: io.out, stderr: io.err });
    }));

  program
    .command('diversity')
    .description('caption-set diversity and balance of a captions JSONL (vocabulary, distinct-n, k-means clusters)')
    .argument('<captions>', 'captions JSONL (core caption records)')
    .option('--k <n>', 'k-means clusters', '20')
    .option('--seed <n>', 'k-means++ seed', '0')
    .action(act(async (file: string, o: { k: string; seed: string }) => {
      const { captionDiversity } = await import('@synth2/eval');
      const records = await readJsonlAll(file, CaptionRecordSchema);
      io.out(`${JSON.stringify(captionDiversity(records.map((r) => r.text), { k: Number(o.k), seed: Number(o.seed) }), null, 2)}\n`);
      return 0;
    }));

  program
    .command('worker')
    .description('process queued caption and embedding jobs (distributed runs; needs @synth2/queue, @synth2/generator for embeddings, and Redis)')
    .requiredOption('--queue <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--name <queue>', 'queue name', 'synth2')
    .option('--concurrency <n>', 'jobs at once in this worker', '1')
    .option('--rate-max <n>', 'global rate limit: jobs per --rate-ms across all workers')
    .option('--rate-ms <ms>', 'rate-limit window', '1000')
    .option('--lock-ms <ms>', 'job lock time: a killed worker\'s job is retried after it', '5000')
    .option('--endpoint <name=url>', 'an OpenAI-compatible endpoint caption jobs may name (repeatable); "default" is OPENAI_BASE_URL', collect, [])
    .option('--allow-plugin <package>', 'a plugin package caption jobs may ask this worker to import (repeatable; none by default)', collect, [])
    .option('--data-root <dir>', 'a folder job files must lie inside (repeatable; default: anywhere this user can write)', collect, [])
    .action(act(async (o: { queue: string; name: string; concurrency: string; rateMax?: string; rateMs: string; lockMs: string; endpoint: string[]; allowPlugin: string[]; dataRoot: string[] }) => {
      const q = await importQueue();
      const { close } = q.runWorker({
        endpoints: parseEndpoints(o.endpoint),
        allowedPlugins: o.allowPlugin,
        dataRoots: o.dataRoot.length > 0 ? o.dataRoot.map((dir) => resolve(dir)) : undefined,
        connection: q.parseRedisUrl(o.queue),
        queueName: o.name,
        concurrency: Number(o.concurrency),
        limiter: o.rateMax ? { max: Number(o.rateMax), duration: Number(o.rateMs) } : undefined,
        lockDuration: Number(o.lockMs),
        onJob: (e) => io.err(`${e.status === 'done' ? '✓' : '✗'} ${e.kind} job ${e.id}${e.error ? `: ${e.error}` : ''}\n`),
      });
      io.err(`worker ready on ${o.queue} (queue ${o.name}); Ctrl-C to stop\n`);
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await close();
      return 0;
    }));

  program
    .command('status')
    .description('show a run directory’s stages, or a queue’s progress and failures')
    .argument('[run]', 'run directory')
    .option('--queue <url>', 'Redis URL of a distributed run')
    .option('--name <queue>', 'queue name', 'synth2')
    .option('--json', 'print JSON')
    .action(act(async (run: string | undefined, o: { queue?: string; name: string; json?: boolean }) => {
      const out: Record<string, unknown> = {};
      if (run) {
        const manifest = (await readJson(join(run, 'manifest.json'))) as { stages: Record<string, { status: string; summary?: { seconds?: number } }> };
        out.stages = manifest.stages;
        if (!o.json) {
          for (const [name, s] of Object.entries(manifest.stages)) {
            io.out(`${name.padEnd(14)} ${s.status.padEnd(8)} ${s.summary?.seconds != null ? `${s.summary.seconds.toFixed(1)} s` : ''}\n`);
          }
        }
      }
      if (o.queue) {
        const q = await importQueue();
        const status = await q.getQueueStatus(q.parseRedisUrl(o.queue), o.name);
        out.queue = status;
        if (!o.json) {
          const c = status.counts;
          io.out(`queue ${status.queue}: ${c.completed} done, ${c.active} running, ${c.waiting} waiting, ${c.delayed} delayed, ${c.failed} failed\n`);
          for (const f of status.failures) io.out(`  failed ${f.id} after ${f.attempts} attempts: ${f.reason}\n`);
        }
      }
      if (!run && !o.queue) {
        io.err('give a run directory and/or --queue <url>\n');
        return 2;
      }
      if (o.json) io.out(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }));

  return program;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp']);
async function expandImages(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (IMAGE_EXT.has(extname(p).toLowerCase())) out.push(p);
    else {
      const names = await readdir(p).catch(() => undefined);
      if (!names) out.push(p);
      else out.push(...names.filter((n) => IMAGE_EXT.has(extname(n).toLowerCase())).sort().map((n) => join(p, n)));
    }
  }
  return out;
}

/** Runs the CLI; returns the exit code. Library errors are printed as one clear line (no stack). */
export async function main(argv: string[], io = { out: (t: string) => void process.stdout.write(t), err: (t: string) => void process.stderr.write(t) }): Promise<number> {
  const { overrides, rest } = extractOverrides(argv);
  const state = { code: 0 };
  const program = buildProgram(overrides, io, state, argv);
  try {
    await program.parseAsync(rest, { from: 'user' });
    return state.code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (Synth2Error.isInstance(error)) {
      io.err(`synth2: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

