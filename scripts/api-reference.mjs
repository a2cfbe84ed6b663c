#!/usr/bin/env node
/**
 * The API reference of every published package, generated from its source with the TypeScript compiler API.
 *
 * For each package under `packages/` that is not private, the public entry points of its `exports` map (`.`, `./test`;
 * `./internal` is left out, see INTERNAL_SUBPATHS) are mapped to their source (`./dist/x.d.ts` → `src/x.ts`), every
 * exported name is resolved to its declaration, and `packages/<p>/API.md` lists them grouped by kind — functions,
 * classes with their public members, constants, types and interfaces with their members — each with a one-line
 * signature and the first paragraph of its TSDoc comment. Where the `browser` condition serves another source file,
 * the names it lacks or declares differently are listed too. The output is sorted and holds no timestamps and no
 * absolute paths.
 *
 *   node scripts/api-reference.mjs           write every packages/<p>/API.md
 *   node scripts/api-reference.mjs --check   exit 1 naming each stale API.md and each export without a TSDoc comment
 *
 * `tests/publish/src/api-reference.test.ts` runs the same check in `npm test`.
 */
/* global process, console */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const DEFAULT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Subpaths of an `exports` map that are published but are not public API, with the reason printed in API.md. */
export const INTERNAL_SUBPATHS = {
  './internal':
    'helpers shared between the @synth2 packages, not a public API: they may change in any release',
};

/** Beyond this many characters a constant's initializer is shortened (`z.object(…).strict()`). */
const MAX_INITIALIZER_CHARS = 100;
/** A call argument longer than this is shown as `…` in a shortened initializer. */
const MAX_ARGUMENT_CHARS = 40;

const GROUPS = /** @type {const} */ ([
  ['function', 'Functions'],
  ['class', 'Classes'],
  ['constant', 'Constants'],
  ['type', 'Types and interfaces'],
]);

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

// ---------------------------------------------------------------------------------------------------------------
// packages and entry points

/** The published packages: `packages/<dir>` with a package.json that is not private, sorted by folder. */
export function publishedPackages(root = DEFAULT_ROOT) {
  const dirs = readdirSync(path.join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, 'packages', d.name, 'package.json')))
    .map((d) => d.name)
    .sort();
  return dirs
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
      return { dir, name: manifest.name, manifest, abs: path.join(root, 'packages', dir) };
    })
    .filter((p) => p.manifest.private !== true);
}

/** `./dist/x.d.ts` or `./dist/x.js` → the package's `src/x.ts` (or `src/x/index.ts` ↔ `src/x.ts`), or a clear error. */
function sourceOfTarget(pkg, target, what) {
  const rel = target
    .replace(/^\.\//, '')
    .replace(/^dist\//, '')
    .replace(/(\.d)?\.[cm]?[jt]s$/, '');
  const candidates = [`src/${rel}.ts`, `src/${rel.replace(/\/index$/, '')}.ts`, `src/${rel}/index.ts`];
  const found = candidates.find((c) => existsSync(path.join(pkg.abs, c)));
  if (!found) {
    throw new Error(
      `${pkg.name}: ${what} points at ${target}, and none of ${candidates.join(', ')} exists: ` +
        'keep the source of each entry at src/<path of its dist file>.ts',
    );
  }
  return found;
}

/** The condition object's string target for `key`, looking inside nested condition objects. */
function targetOf(value, key) {
  if (!value || typeof value !== 'object') return undefined;
  if (typeof value[key] === 'string') return value[key];
  for (const nested of Object.values(value)) {
    const found = nested && typeof nested === 'object' ? targetOf(nested, key) : undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * The browser build's entries from `tsup.browser.config.ts`: `browserBuildConfig({ index: 'src/browser.ts' })` →
 * `{ 'dist/browser/index': 'src/browser.ts' }` (read with the compiler API, not run).
 */
function browserBuildEntries(pkg) {
  const file = path.join(pkg.abs, 'tsup.browser.config.ts');
  if (!existsSync(file)) return {};
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const entries = {};
  const visit = (node) => {
    if (ts.isCallExpression(node) && node.expression.getText(source) === 'browserBuildConfig') {
      const arg = node.arguments[0];
      if (arg && ts.isObjectLiteralExpression(arg)) {
        for (const prop of arg.properties) {
          if (ts.isPropertyAssignment(prop) && ts.isStringLiteral(prop.initializer)) {
            const key =
              ts.isStringLiteral(prop.name) || ts.isIdentifier(prop.name) ? prop.name.text : undefined;
            if (key) entries[`dist/browser/${key}`] = prop.initializer.text.replace(/^\.\//, '');
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return entries;
}

/** The source of the `browser` condition of one export, when it is another file than the entry's own. */
function browserSourceOf(pkg, value, source) {
  const browser = value && typeof value === 'object' ? value.browser : undefined;
  if (browser === undefined) return undefined;
  const types = targetOf(browser, 'types');
  let browserSource;
  if (types) browserSource = sourceOfTarget(pkg, types, 'the "browser" condition\'s types');
  else {
    const js =
      typeof browser === 'string' ? browser : (targetOf(browser, 'default') ?? targetOf(browser, 'import'));
    const key = js?.replace(/^\.\//, '').replace(/\.[cm]?js$/, '');
    browserSource = browserBuildEntries(pkg)[key];
    if (!browserSource) {
      throw new Error(
        `${pkg.name}: the "browser" condition points at ${js}, which tsup.browser.config.ts does not build: ` +
          'name its source in browserBuildConfig({ … })',
      );
    }
  }
  return browserSource === source ? undefined : browserSource;
}

/**
 * The code entries of a package's `exports` map: `{ subpath, specifier, source, browserSource? }` for the public
 * ones and `{ subpath, specifier, reason }` for those left out (INTERNAL_SUBPATHS).
 */
export function entryPoints(pkg) {
  const { exports } = pkg.manifest;
  if (!exports || typeof exports !== 'object') {
    throw new Error(
      `${pkg.name}: package.json has no "exports" map: add one ({ ".": { types, import, require } })`,
    );
  }
  const publicEntries = [];
  const leftOut = [];
  for (const [subpath, value] of Object.entries(exports)) {
    if (subpath === './package.json') continue;
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    if (INTERNAL_SUBPATHS[subpath]) {
      leftOut.push({ subpath, specifier, reason: INTERNAL_SUBPATHS[subpath] });
      continue;
    }
    const types = typeof value === 'string' ? value : (value?.types ?? targetOf(value, 'types'));
    if (!types) throw new Error(`${pkg.name}: export "${subpath}" has no "types" target: add one`);
    const source = sourceOfTarget(pkg, types, `export "${subpath}"`);
    publicEntries.push({ subpath, specifier, source, browserSource: browserSourceOf(pkg, value, source) });
  }
  publicEntries.sort((a, b) => compareText(a.subpath, b.subpath));
  leftOut.sort((a, b) => compareText(a.subpath, b.subpath));
  return { publicEntries, leftOut };
}

// ---------------------------------------------------------------------------------------------------------------
// the program

/** One program over every entry of every package, `@synth2/<p>[/sub]` resolved to source (no build needed). */
function createProgram(root, packages) {
  const base = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
  if (base.error)
    throw new Error(`tsconfig.base.json: ${ts.flattenDiagnosticMessageText(base.error.messageText, '\n')}`);
  const { options } = ts.convertCompilerOptionsFromJson(base.config.compilerOptions, root);
  const paths = {};
  const rootNames = [];
  for (const pkg of packages) {
    for (const [subpath, value] of Object.entries(pkg.manifest.exports ?? {})) {
      if (subpath === './package.json') continue;
      const types = typeof value === 'string' ? value : (value?.types ?? targetOf(value, 'types'));
      if (!types) continue;
      const source = path.join(pkg.abs, sourceOfTarget(pkg, types, `export "${subpath}"`));
      paths[subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = [source];
    }
    for (const entry of entryPoints(pkg).publicEntries) {
      rootNames.push(path.join(pkg.abs, entry.source));
      if (entry.browserSource) rootNames.push(path.join(pkg.abs, entry.browserSource));
    }
  }
  return ts.createProgram({
    rootNames,
    options: { ...options, noEmit: true, declaration: false, sourceMap: false, paths, pathsBasePath: root },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// rendering one declaration

/**
 * One line: whitespace runs → one space, none inside brackets or before a chained `.call`, and no `,` or `;` before a
 * closing bracket.
 */
const collapse = (text) =>
  text
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .replace(/([\w)\]]) \.(?=[\w$])/g, '$1.')
    .replace(/, ([}\])])/g, ' $1')
    .replace(/; }/g, ' }')
    .trim();
const print = (node, sourceFile) => collapse(printer.printNode(ts.EmitHint.Unspecified, node, sourceFile));
/** Strips `import("/abs/path").` that the checker writes for names not in scope (no absolute paths in API.md). */
const typeText = (text) => text.replace(/import\("[^"]*"\)\./g, '');

function inferredTypeNode(checker, type, at) {
  const text = typeText(
    checker.typeToString(type, at, ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope),
  );
  return ts.factory.createTypeReferenceNode(text);
}

/** A parameter as a signature shows it: no default value (optional instead), a destructuring pattern named `options`. */
function signatureParameter(checker, param) {
  const f = ts.factory;
  const name = ts.isIdentifier(param.name) ? param.name : f.createIdentifier('options');
  const type =
    param.type ??
    (param.initializer ? inferredTypeNode(checker, checker.getTypeAtLocation(param), param) : undefined);
  const optional =
    param.questionToken ?? (param.initializer ? f.createToken(ts.SyntaxKind.QuestionToken) : undefined);
  return f.createParameterDeclaration(undefined, param.dotDotDotToken, name, optional, type, undefined);
}

function returnTypeNode(checker, node) {
  if (node.type) return node.type;
  const signature = checker.getSignatureFromDeclaration(node);
  return signature ? inferredTypeNode(checker, checker.getReturnTypeOfSignature(signature), node) : undefined;
}

/** `function name<T>(a: A, b?: B): R` for a function declaration or a `const name = (…) => …`. */
function functionSignature(checker, name, fn, sourceFile) {
  const f = ts.factory;
  const node = f.createFunctionDeclaration(
    undefined,
    fn.asteriskToken,
    name,
    fn.typeParameters,
    fn.parameters.map((p) => signatureParameter(checker, p)),
    returnTypeNode(checker, fn),
    undefined,
  );
  return print(node, sourceFile).replace(/;$/, '');
}

/** A long call chain with its long arguments shown as `…`: `z.object({ … }).strict()` → `z.object(…).strict()`. */
function shortInitializer(node, sourceFile) {
  const full = print(node, sourceFile);
  if (full.length <= MAX_INITIALIZER_CHARS) return full;
  if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
    const callee = shortInitializer(node.expression, sourceFile);
    const args = (node.arguments ?? []).map((a) => {
      const text = print(a, sourceFile);
      return text.length <= MAX_ARGUMENT_CHARS ? text : '…';
    });
    return `${ts.isNewExpression(node) ? 'new ' : ''}${callee}(${args.join(', ')})`;
  }
  if (ts.isPropertyAccessExpression(node))
    return `${shortInitializer(node.expression, sourceFile)}.${node.name.text}`;
  if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
    return `${shortInitializer(node.expression, sourceFile)} ${ts.isAsExpression(node) ? 'as' : 'satisfies'} ${print(node.type, sourceFile)}`;
  }
  if (ts.isObjectLiteralExpression(node)) return '{ … }';
  if (ts.isArrayLiteralExpression(node)) return '[…]';
  return undefined;
}

function constantSignature(checker, name, decl, sourceFile) {
  if (decl.type) return `const ${name}: ${print(decl.type, sourceFile)}`;
  const short = decl.initializer ? shortInitializer(decl.initializer, sourceFile) : undefined;
  if (short) return `const ${name} = ${short}`;
  return `const ${name}: ${typeText(checker.typeToString(checker.getTypeAtLocation(decl), decl))}`;
}

function heritage(node, sourceFile) {
  return (node.heritageClauses ?? []).map((h) => ` ${print(h, sourceFile)}`).join('');
}

function typeParameters(node, sourceFile) {
  if (!node.typeParameters?.length) return '';
  return `<${node.typeParameters.map((t) => print(t, sourceFile)).join(', ')}>`;
}

const isHidden = (member) =>
  (ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 ||
  (member.name && ts.isPrivateIdentifier(member.name));

/** A class member's one-line signature (no body, no initializer), or undefined for members users cannot reach. */
function classMemberSignature(checker, member, sourceFile) {
  if (isHidden(member) || ts.isClassStaticBlockDeclaration(member) || ts.isSemicolonClassElement(member))
    return undefined;
  const f = ts.factory;
  const keep = (ts.getModifiers(member) ?? []).filter((m) =>
    [ts.SyntaxKind.StaticKeyword, ts.SyntaxKind.ReadonlyKeyword, ts.SyntaxKind.AbstractKeyword].includes(
      m.kind,
    ),
  );
  const params = (m) => m.parameters.map((p) => signatureParameter(checker, p));
  let node;
  if (ts.isConstructorDeclaration(member))
    node = f.createConstructorDeclaration(undefined, params(member), undefined);
  else if (ts.isMethodDeclaration(member)) {
    node = f.createMethodDeclaration(
      keep,
      member.asteriskToken,
      member.name,
      member.questionToken,
      member.typeParameters,
      params(member),
      returnTypeNode(checker, member),
      undefined,
    );
  } else if (ts.isGetAccessorDeclaration(member)) {
    node = f.createGetAccessorDeclaration(keep, member.name, [], returnTypeNode(checker, member), undefined);
  } else if (ts.isSetAccessorDeclaration(member)) {
    node = f.createSetAccessorDeclaration(keep, member.name, params(member), undefined);
  } else if (ts.isPropertyDeclaration(member)) {
    const type = member.type ?? inferredTypeNode(checker, checker.getTypeAtLocation(member), member);
    node = f.createPropertyDeclaration(keep, member.name, member.questionToken, type, undefined);
  } else if (ts.isIndexSignatureDeclaration(member)) node = member;
  else return undefined;
  return print(node, sourceFile).replace(/;$/, '');
}

/** The public constructor parameters declared as properties (`constructor(readonly x: X)`), as members. */
function parameterProperties(member, sourceFile) {
  if (!ts.isConstructorDeclaration(member)) return [];
  return member.parameters
    .filter((p) => ts.isParameterPropertyDeclaration(p, member) && !isHidden(p))
    .map((p) => {
      const mods = (ts.getModifiers(p) ?? []).filter((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword);
      const node = ts.factory.createPropertyDeclaration(mods, p.name, p.questionToken, p.type, undefined);
      return { signature: print(node, sourceFile).replace(/;$/, ''), doc: firstParagraph(p) };
    });
}

function classMembers(checker, cls, sourceFile) {
  const members = [];
  const overloaded = new Set();
  for (const member of cls.members) {
    if ((ts.isMethodDeclaration(member) || ts.isConstructorDeclaration(member)) && !member.body) {
      overloaded.add(ts.isConstructorDeclaration(member) ? 'constructor' : member.name.getText(sourceFile));
    }
  }
  for (const member of cls.members) {
    const key = ts.isConstructorDeclaration(member) ? 'constructor' : member.name?.getText(sourceFile);
    // an implementation after overload signatures is not callable as written
    if (
      member.body &&
      overloaded.has(key) &&
      (ts.isMethodDeclaration(member) || ts.isConstructorDeclaration(member))
    )
      continue;
    const signature = classMemberSignature(checker, member, sourceFile);
    if (signature) members.push({ signature, doc: firstParagraph(member) });
    members.push(...parameterProperties(member, sourceFile));
  }
  return members;
}

function typeMembers(members, sourceFile) {
  return members.map((m) => ({ signature: print(m, sourceFile).replace(/;$/, ''), doc: firstParagraph(m) }));
}

// ---------------------------------------------------------------------------------------------------------------
// TSDoc

/** `{@link X}` / `{@link X | text}` → `` `X` `` / text. */
const linksToCode = (text) =>
  text.replace(/\{@link(?:code|plain)?\s+([^}|\s]+)\s*(?:\|\s*([^}]+))?\}/g, (_, target, label) =>
    label ? label.trim() : `\`${target}\``,
  );

/**
 * The first paragraph of a declaration's TSDoc comment (the closest `/** … *\/` above it), on one line; '' if none.
 * Read from the comment's text, so a block tag counts only at the start of a line (`@param`, `@deprecated`): an
 * `@synth2/core` inside a sentence stays text.
 */
export function firstParagraph(node) {
  const doc = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).at(-1);
  if (!doc) return '';
  const body = doc
    .getText()
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''));
  const tag = body.findIndex((line) => /^\s*@\w/.test(line));
  const text = (tag === -1 ? body : body.slice(0, tag)).join('\n').trim();
  const paragraph = text.split(/\n\s*\n/)[0] ?? '';
  return linksToCode(paragraph).replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------------------
// one export → entries

const relative = (root, file) => path.relative(root, file).split(path.sep).join('/');

/**
 * The entries one exported name gives: `{ name, kind, signature, doc, members?, where }` per declaration group
 * (a name can be both a constant and a type). `where` is `path:line` of the declaration, relative to the root.
 */
function describeExport(checker, root, exported) {
  const name = exported.name;
  const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const declarations = target.declarations ?? [];
  const entries = [];
  const where = (decl) => {
    const sf = decl.getSourceFile();
    return `${relative(root, sf.fileName)}:${sf.getLineAndCharacterOfPosition(decl.getStart(sf)).line + 1}`;
  };
  const functions = declarations.filter(
    (d) =>
      ts.isFunctionDeclaration(d) ||
      (ts.isVariableDeclaration(d) &&
        d.initializer &&
        !d.type &&
        (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))),
  );
  if (functions.length > 0) {
    const overloads = functions.filter((d) => ts.isFunctionDeclaration(d) && !d.body);
    const shown = overloads.length > 0 ? overloads : functions;
    const fns = shown.map((d) => (ts.isVariableDeclaration(d) ? d.initializer : d));
    entries.push({
      name,
      kind: 'function',
      signature: fns.map((fn) => functionSignature(checker, name, fn, fn.getSourceFile())).join('\n'),
      doc: shown.map(firstParagraph).find(Boolean) ?? firstParagraph(functions[0]),
      where: where(shown[0]),
    });
  }
  for (const decl of declarations) {
    const sf = decl.getSourceFile();
    if (ts.isClassDeclaration(decl)) {
      const abstract = ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract ? 'abstract ' : '';
      entries.push({
        name,
        kind: 'class',
        signature: `${abstract}class ${name}${typeParameters(decl, sf)}${heritage(decl, sf)}`,
        doc: firstParagraph(decl),
        members: classMembers(checker, decl, sf),
        where: where(decl),
      });
    } else if (ts.isVariableDeclaration(decl) && !functions.includes(decl)) {
      entries.push({
        name,
        kind: 'constant',
        signature: constantSignature(checker, name, decl, sf),
        doc: firstParagraph(decl),
        where: where(decl),
      });
    } else if (ts.isInterfaceDeclaration(decl)) {
      entries.push({
        name,
        kind: 'type',
        signature: `interface ${name}${typeParameters(decl, sf)}${heritage(decl, sf)}`,
        doc: firstParagraph(decl),
        members: typeMembers(decl.members, sf),
        where: where(decl),
      });
    } else if (ts.isTypeAliasDeclaration(decl)) {
      const literal = ts.isTypeLiteralNode(decl.type);
      entries.push({
        name,
        kind: 'type',
        signature: `type ${name}${typeParameters(decl, sf)} = ${literal ? '{ … }' : print(decl.type, sf)}`,
        doc: firstParagraph(decl),
        members: literal ? typeMembers(decl.type.members, sf) : undefined,
        where: where(decl),
      });
    } else if (ts.isEnumDeclaration(decl)) {
      entries.push({
        name,
        kind: 'type',
        signature: `enum ${name}`,
        doc: firstParagraph(decl),
        members: decl.members.map((m) => ({ signature: print(m, sf), doc: firstParagraph(m) })),
        where: where(decl),
      });
    } else if (ts.isModuleDeclaration(decl)) {
      entries.push({
        name,
        kind: 'constant',
        signature: `namespace ${name}`,
        doc: firstParagraph(decl),
        where: where(decl),
      });
    } else if (ts.isSourceFile(decl)) {
      // `export * as name from 'module'`: the export statement is the declaration users see
      const statement = (exported.declarations ?? []).find(ts.isNamespaceExport)?.parent;
      if (!statement) continue;
      const signature = print(statement, statement.getSourceFile()).replace(/;$/, '');
      entries.push({
        name,
        kind: 'constant',
        signature,
        doc: firstParagraph(statement),
        where: where(statement),
      });
    }
  }
  // interface + class of one name (declaration merging) reads as the class
  const cls = entries.find((e) => e.kind === 'class');
  return cls ? entries.filter((e) => e.kind !== 'type' || !e.signature.startsWith('interface ')) : entries;
}

/** Every entry of one module, sorted by kind and name. */
function describeModule(checker, root, sourceFile) {
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) return [];
  return checker
    .getExportsOfModule(moduleSymbol)
    .flatMap((s) => describeExport(checker, root, s))
    .sort((a, b) => compareText(a.name, b.name) || compareText(a.kind, b.kind));
}

// ---------------------------------------------------------------------------------------------------------------
// markdown

/** Sorts by text, case-insensitively first, without the locale (the same order on every machine). */
export function compareText(a, b) {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Inline code that survives backticks inside: a fence one backtick longer than the longest run in the text. */
function inlineCode(text) {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

function renderEntry(entry, level) {
  const lines = [`${'#'.repeat(level)} ${entry.name}`, '', '```ts', entry.signature, '```', ''];
  if (entry.doc) lines.push(entry.doc, '');
  if (entry.members?.length) {
    for (const m of entry.members) lines.push(`- ${inlineCode(m.signature)}${m.doc ? ` — ${m.doc}` : ''}`);
    lines.push('');
  }
  return lines;
}

function renderGroups(entries, level) {
  const lines = [];
  for (const [kind, title] of GROUPS) {
    const group = entries.filter((e) => e.kind === kind);
    if (group.length === 0) continue;
    lines.push(`${'#'.repeat(level)} ${title}`, '');
    for (const entry of group) lines.push(...renderEntry(entry, level + 1));
  }
  return lines;
}

const sameEntry = (a, b) => a.kind === b.kind && a.signature === b.signature && a.where === b.where;

function renderBrowserDifferences(entry, nodeEntries, browserEntries) {
  const browserNames = new Set(browserEntries.map((e) => e.name));
  const nodeOnly = [...new Set(nodeEntries.filter((e) => !browserNames.has(e.name)).map((e) => e.name))];
  const differing = browserEntries.filter(
    (b) => !nodeEntries.some((n) => n.name === b.name && sameEntry(n, b)),
  );
  const lines = [`### In a browser`, ''];
  lines.push(`The \`browser\` export condition serves \`${entry.browserSource}\`.`, '');
  if (nodeOnly.length > 0) {
    lines.push(`Not in the browser entry (Node only): ${nodeOnly.map((n) => `\`${n}\``).join(', ')}.`, '');
  }
  if (differing.length > 0) {
    lines.push('Declared differently in the browser entry:', '');
    lines.push(...renderGroups(differing, 4));
  }
  if (nodeOnly.length === 0 && differing.length === 0)
    lines.push("It exports the same names as Node's entry.", '');
  return lines;
}

function renderPackage(pkg, entries, leftOut) {
  const sources = entries.map((e) => `\`${e.entry.source}\``).join(', ');
  const lines = [
    `# ${pkg.name} API reference`,
    '',
    `Every export of the package's public entry points, generated from its source (${sources}) by`,
    '`npm run api:reference` at the repository root; `npm test` fails when this file is stale. Each entry: its',
    'signature and the first paragraph of its TSDoc comment.',
    '',
  ];
  for (const l of leftOut) lines.push(`Left out: \`${l.specifier}\` — ${l.reason}.`, '');
  if (entries.length > 1) {
    lines.push('Entry points:', '');
    for (const e of entries)
      lines.push(`- [\`${e.entry.specifier}\`](#${anchor(e.entry.specifier)}) (\`${e.entry.source}\`)`);
    lines.push('');
  }
  for (const { entry, items, browserItems } of entries) {
    lines.push(`## ${entry.specifier}`, '');
    if (items.length === 0) lines.push('No exports.', '');
    lines.push(...renderGroups(items, 3));
    if (browserItems) lines.push(...renderBrowserDifferences(entry, items, browserItems));
  }
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces → `-`. */
const anchor = (heading) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

// ---------------------------------------------------------------------------------------------------------------
// generate and check

/**
 * The API reference of every published package, in memory: `[{ dir, name, file, content, undocumented }]`, where
 * `undocumented` lists `name (path:line)` of each export without a TSDoc comment.
 */
export function generateApiReferences(root = DEFAULT_ROOT) {
  const packages = publishedPackages(root);
  const program = createProgram(root, packages);
  const checker = program.getTypeChecker();
  const moduleEntries = (pkg, source) => {
    const file = path.join(pkg.abs, source);
    const sourceFile = program.getSourceFile(file);
    if (!sourceFile) throw new Error(`${pkg.name}: ${source} is not in the program`);
    return describeModule(checker, root, sourceFile);
  };
  return packages.map((pkg) => {
    const { publicEntries, leftOut } = entryPoints(pkg);
    const entries = publicEntries.map((entry) => ({
      entry,
      items: moduleEntries(pkg, entry.source),
      browserItems: entry.browserSource ? moduleEntries(pkg, entry.browserSource) : undefined,
    }));
    const undocumented = [
      ...new Set(
        entries
          .flatMap((e) => [...e.items, ...(e.browserItems ?? [])])
          .filter((i) => !i.doc)
          .map((i) => `${i.name} (${i.where})`),
      ),
    ].sort(compareText);
    return {
      dir: pkg.dir,
      name: pkg.name,
      file: `packages/${pkg.dir}/API.md`,
      content: renderPackage(pkg, entries, leftOut),
      undocumented,
    };
  });
}

/** The first line where `actual` (the checked-in file, or undefined) differs from `expected`: `{ line, expected, actual }`. */
export function firstDifference(expected, actual) {
  if (actual === expected) return undefined;
  if (actual === undefined) return { line: 1, expected: expected.split('\n')[0], actual: '(file missing)' };
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i])
      return { line: i + 1, expected: e[i] ?? '(end of file)', actual: a[i] ?? '(end of file)' };
  }
  return undefined;
}

/** What is wrong with the checked-in references: one message per stale or missing API.md and per undocumented export. */
export function checkApiReferences(root = DEFAULT_ROOT, references = generateApiReferences(root)) {
  const problems = [];
  for (const ref of references) {
    const file = path.join(root, ref.file);
    const actual = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const diff = firstDifference(ref.content, actual);
    if (diff) {
      problems.push(
        `${ref.name}: ${ref.file} is stale at line ${diff.line}: expected ${JSON.stringify(diff.expected)}, ` +
          `found ${JSON.stringify(diff.actual)}; run \`npm run api:reference\` and commit it`,
      );
    }
    if (ref.undocumented.length > 0) {
      problems.push(
        `${ref.name}: ${ref.undocumented.length} export(s) without a TSDoc comment (add a /** … */ line saying what each is): ` +
          ref.undocumented.join(', '),
      );
    }
  }
  return problems;
}

/** Writes `file` atomically (a temporary file beside it, then rename), only when its content changes. */
function writeIfChanged(file, content) {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
  return true;
}

function main(argv) {
  const root = DEFAULT_ROOT;
  const references = generateApiReferences(root);
  if (argv.includes('--check')) {
    const problems = checkApiReferences(root, references);
    for (const p of problems) console.error(p);
    if (problems.length === 0) console.log(`api-reference: ${references.length} API.md files are up to date`);
    return problems.length === 0 ? 0 : 1;
  }
  for (const ref of references) {
    const changed = writeIfChanged(path.join(root, ref.file), ref.content);
    console.log(`${changed ? 'wrote' : 'unchanged'} ${ref.file}`);
    if (ref.undocumented.length > 0) {
      console.warn(
        `  ${ref.undocumented.length} export(s) without a TSDoc comment: ${ref.undocumented.join(', ')}`,
      );
    }
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
