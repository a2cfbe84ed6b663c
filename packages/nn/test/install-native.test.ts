import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withTmpDir } from '@synth2/core/test';
import { describe, expect, it } from 'vitest';

const packageDir = resolve(__dirname, '..');

/** A copy of what the published package ships for its install step: the script and the native sources. */
function copyInstallFiles(dir: string): string {
  const pkg = join(dir, 'nn');
  cpSync(join(packageDir, 'scripts'), join(pkg, 'scripts'), { recursive: true });
  cpSync(join(packageDir, 'native', 'binding.gyp'), join(pkg, 'native', 'binding.gyp'));
  cpSync(join(packageDir, 'native', 'src'), join(pkg, 'native', 'src'), { recursive: true });
  return pkg;
}

function runInstall(pkg: string, args: string[] = []) {
  return spawnSync(process.execPath, [join(pkg, 'scripts', 'install-native.cjs'), ...args], {
    cwd: pkg,
    encoding: 'utf8',
    timeout: 5 * 60_000,
    env: { ...process.env, CC: '/nonexistent/cc', CXX: '/nonexistent/c++', SYNTH2_NATIVE: '' },
  });
}

describe('the install step without a C compiler', () => {
  it('should exit 0 with one line saying the SDK runs on portable wasm, and keep the compiler output', async () => {
    await withTmpDir(async (dir) => {
      const pkg = copyInstallFiles(dir);
      const r = runInstall(pkg);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^@synth2\/nn: native kernels not built \(.+\); the SDK runs on portable wasm — /);
      expect(lines[0]).toContain('npm rebuild @synth2/nn');
      expect(existsSync(join(pkg, 'native', 'build', 'Release', 'synth2_native.node'))).toBe(false);
      expect(readFileSync(join(pkg, 'native', 'build-error.log'), 'utf8')).toContain('/nonexistent/');
    });
  });

  it('should fail loudly with --strict (npm run build:native)', async () => {
    await withTmpDir(async (dir) => {
      const pkg = copyInstallFiles(dir);
      const r = runInstall(pkg, ['--strict']);
      expect(r.status).toBe(1);
    });
  });
});
