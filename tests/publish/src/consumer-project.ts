/**
 * Packs workspace packages with `npm pack` and installs the tarballs into an empty project outside the
 * monorepo, the way a user installs them from the registry.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface CommandResult {
  readonly command: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

/** Runs a command to completion (never throws for a failing command: look at `code`). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ command: [command, ...args].join(' '), code, signal, timedOut, stdout, stderr });
    });
  });
}

/** A short account of a finished command for assertion messages. */
export function describeResult(result: CommandResult, tail = 4000): string {
  const status = result.timedOut
    ? 'timed out'
    : result.signal
      ? `killed by ${result.signal}`
      : `exit ${result.code}`;
  const clip = (s: string) => (s.length > tail ? `…${s.slice(-tail)}` : s);
  return `\`${result.command}\`: ${status}\n--- stdout\n${clip(result.stdout)}\n--- stderr\n${clip(result.stderr)}`;
}

/** Variables an enclosing `npm run` sets that point a child npm or node back at the monorepo. */
const MONOREPO_VARIABLES =
  /^(npm_config_(local_prefix|workspaces?|include_workspace_root|prefix)|npm_package_.*|npm_lifecycle_.*|npm_command|init_cwd|node_path|node_options|vitest.*|test|node_env)$/i;

/**
 * The environment for child processes: this process's, without the variables an enclosing `npm run` or vitest
 * sets (the monorepo as npm's project, workspace selection, package.json fields, `NODE_PATH`, `NODE_OPTIONS`),
 * so nothing leads a child back into the monorepo. Registry, proxy and certificate settings are kept.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!MONOREPO_VARIABLES.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** The npm cache the test installs through: it persists between runs so that installs are fast. */
export function npmCacheDir(): string {
  return (
    process.env.SYNTH2_PUBLISH_NPM_CACHE ?? process.env.npm_config_cache ?? path.join(os.homedir(), '.npm')
  );
}

/** Whether the npm registry answers (`npm ping` with a short timeout), and why not. */
export async function registryReachable(
  options: { timeoutMs?: number; registry?: string } = {},
): Promise<{ ok: boolean; reason: string }> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const args = ['ping', '--fetch-timeout', String(Math.max(1000, timeoutMs - 2000)), '--fetch-retries', '0'];
  if (options.registry) args.push('--registry', options.registry);
  try {
    const result = await runCommand('npm', args, { cwd: os.tmpdir(), timeoutMs });
    if (result.code === 0) return { ok: true, reason: 'npm ping answered' };
    return {
      ok: false,
      reason: `the npm registry is unreachable (${describeResult(result, 400).replace(/\n/g, ' ')})`,
    };
  } catch (error) {
    return { ok: false, reason: `npm could not be run: ${(error as Error).message}` };
  }
}

export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface PackResult {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the tarball. */
  readonly tarball: string;
  readonly files: readonly PackedFile[];
}

/** `npm pack` of the given workspace folders (relative to `repoRoot`) into `destination`. */
export async function packWorkspaces(
  repoRoot: string,
  workspaceDirs: readonly string[],
  destination: string,
): Promise<PackResult[]> {
  await mkdir(destination, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', destination];
  for (const dir of workspaceDirs) args.push('--workspace', dir);
  const result = await runCommand('npm', args, { cwd: repoRoot, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`npm pack failed: ${describeResult(result)}`);
  const jsonStart = result.stdout.indexOf('[');
  const entries = JSON.parse(result.stdout.slice(jsonStart)) as Array<{
    name: string;
    version: string;
    filename: string;
    files: PackedFile[];
  }>;
  return entries.map((e) => ({
    name: e.name,
    version: e.version,
    tarball: path.join(destination, e.filename),
    files: e.files.map((f) => ({ path: f.path, size: f.size })),
  }));
}

export interface ConsumerProject {
  readonly dir: string;
  readonly install: CommandResult;
}

/**
 * Creates an empty ESM project in a fresh temporary folder (outside `repoRoot`, checked) whose only
 * dependencies are the tarballs, and runs `npm install` there. Third-party dependencies come from the
 * registry through the persistent cache.
 */
export async function createConsumerProject(
  repoRoot: string,
  tarballs: readonly PackResult[],
  options: { parent?: string; timeoutMs?: number } = {},
): Promise<ConsumerProject> {
  const dir = await mkdtemp(path.join(options.parent ?? os.tmpdir(), 'synth2-consumer-'));
  const relative = path.relative(path.resolve(repoRoot), dir);
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
    throw new Error(
      `the consumer project ${dir} lies inside the monorepo ${repoRoot}: use a folder outside it`,
    );
  }
  const dependencies: Record<string, string> = {};
  for (const t of tarballs) dependencies[t.name] = `file:${t.tarball}`;
  await writeFile(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'synth2-consumer', version: '1.0.0', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  const install = await runCommand(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--no-workspaces',
      '--cache',
      npmCacheDir(),
      '--loglevel',
      'warn',
    ],
    { cwd: dir, timeoutMs: options.timeoutMs ?? 240_000 },
  );
  return { dir, install };
}

/** The installed copies of a package anywhere under `node_modules` (there should be exactly one). */
export async function findInstalledCopies(projectDir: string, packageName: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(projectDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; link?: boolean }>;
  };
  return Object.keys(lock.packages).filter(
    (key) => key === `node_modules/${packageName}` || key.endsWith(`/node_modules/${packageName}`),
  );
}

/** The lockfile entry of an installed package. */
export async function lockEntry(
  projectDir: string,
  key: string,
): Promise<{ version?: string; resolved?: string; link?: boolean } | undefined> {
  const lock = JSON.parse(await readFile(path.join(projectDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; resolved?: string; link?: boolean }>;
  };
  return lock.packages[key];
}

/** Whether a folder holds a built package (its `dist/`). */
export function isBuilt(packageDir: string): boolean {
  return existsSync(path.join(packageDir, 'dist'));
}
