// Everything the browser entry has (schema parsing, JSON positions, strict options, errors, parseJsonText, Rng;
// no zod, so fast-starting consumers such as the synth2-eval command can use it), plus the file-system helpers.
export * from './browser';
export { fileError } from './file-error';
export { fsyncDir, writeFileAtomic } from '../io/atomic-write';
// loading plugin packages by name from a project directory (Node: it resolves through node_modules)
export { isPluginPackageName, loadProjectPlugins, projectImporter } from '../registry/project-plugins';
