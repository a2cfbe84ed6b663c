import { describe, expect, it } from 'vitest';
import { checkPluginSpecifiers, isLocalPath } from './plugins';

describe('checkPluginSpecifiers', () => {
  it('should accept npm package names, scoped or not', () => {
    expect(() => checkPluginSpecifiers(['synth2-plugin-caption-templates', '@my-org/synth2.plugin_x'])).not.toThrow();
  });

  it('should refuse URLs, subpaths and other specifiers that are not package names, even with allowPaths', () => {
    for (const spec of ['data:text/javascript,export default 1', 'https://example.com/p.mjs', 'node:child_process', 'pkg/../../x', 'pkg/sub', 'Upper', '', '@scope']) {
      expect(() => checkPluginSpecifiers([spec], { allowPaths: true }), spec).toThrow(/is not a package name/);
    }
  });

  it('should refuse local files unless allowPaths is set', () => {
    for (const spec of ['/abs/plugin.mjs', './plugin.mjs', '../plugin.mjs', '.', 'file:///abs/plugin.mjs']) {
      expect(isLocalPath(spec), spec).toBe(true);
      expect(() => checkPluginSpecifiers([spec]), spec).toThrow(/is a local file, not a package name.*--allow-plugin-paths/);
      expect(() => checkPluginSpecifiers([spec], { allowPaths: true }), spec).not.toThrow();
    }
  });
});
