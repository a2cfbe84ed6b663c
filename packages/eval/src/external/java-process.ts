import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AbortedError, ConfigurationError, Synth2Error } from '@synth2/core/internal';

export interface JavaJarOptions {
  /** The `java` executable. Default: env `SYNTH2_JAVA`, else `java` on the PATH. */
  java?: string;
  /** Path of the official jar. */
  jar?: string;
  /** Stops the work with an `AbortedError` (the option name every Synth² package uses). */
  abortSignal?: AbortSignal;
  /** @deprecated Use `abortSignal` (still honoured in this release). */
  signal?: AbortSignal;
}

/** Resolves java and the jar (env read now, not at import) and fails with one message naming everything missing. */
export function resolveJar(metric: 'METEOR' | 'SPICE', options: JavaJarOptions, envJar: string, jarName: string, extra: string): { java: string; jar: string } {
  const java = options.java ?? process.env.SYNTH2_JAVA ?? 'java';
  const jar = options.jar ?? process.env[envJar];
  if (!jar) {
    throw new ConfigurationError(
      `${metric} needs the official ${jarName}${extra} and Java: pass the jar path (${metric.toLowerCase()}: { jar }, CLI --${metric.toLowerCase()}-jar) or set ${envJar}. It is not bundled with @synth2/eval.`,
      { setting: `${metric.toLowerCase()}.jar` },
    );
  }
  if (!existsSync(jar)) {
    throw new ConfigurationError(`${metric}: the jar ${jar} does not exist. Pass the path of ${jarName} (${metric.toLowerCase()}: { jar } or ${envJar}).`, {
      setting: `${metric.toLowerCase()}.jar`,
    });
  }
  return { java, jar };
}

/** Spawns java; a missing executable becomes a ConfigurationError naming it. */
export function spawnJava(metric: string, java: string, args: string[], cwd: string): Promise<ChildProcessWithoutNullStreams> {
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        reject(
          new ConfigurationError(
            `${metric} needs Java, but "${java}" could not be started (${error.code}). Install a Java runtime (8 or later) or pass its path (java option, CLI --java, or SYNTH2_JAVA).`,
            { setting: 'java', cause: error },
          ),
        );
      } else reject(new Synth2Error(`${metric}: could not start ${java}: ${error.message}`, { cause: error }));
    };
    child.once('error', onError);
    child.once('spawn', () => {
      child.off('error', onError);
      resolve(child);
    });
  });
}

/** Reads a child's stdout line by line; `next()` resolves with the next line or rejects if the process ends. */
export class LineReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (e: unknown) => void }[] = [];
  private ended: Error | undefined;
  stderr = '';

  constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly metric: string) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w.resolve(line);
        else this.lines.push(line);
      }
    });
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    child.on('close', (code, signal) => {
      this.fail(
        new Synth2Error(
          `${this.metric}: the Java process exited (${signal ?? `code ${code}`}) before answering. Its error output: ${this.stderr.trim().slice(-1500) || '(none)'}`,
          { code: 'external_process' },
        ),
      );
    });
    child.stdin.on('error', () => {
      /* reported through 'close' */
    });
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

export function abortChild(child: ChildProcessWithoutNullStreams, reader: LineReader | undefined, signal?: AbortSignal): () => void {
  if (!signal) return () => {};
  const onAbort = (): void => {
    reader?.fail(new AbortedError(undefined, { cause: signal.reason }));
    child.kill();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
