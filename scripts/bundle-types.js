/**
 * Writes hyperlab's public type declarations as two files, dist/hyperlab.d.ts
 * (the package's "types") and dist/hyperlab.bundle.d.ts, instead of the ~900
 * declaration files that `import * as hl from 'hyperlab'` otherwise brings into
 * a TypeScript program (hyperlab's own, tfjs', nodejs-polars').
 *
 * Why: the tslab notebook kernel type-checks every cell it runs, and on every
 * cell TypeScript's watch program and builder walk every file of the program
 * (re-checking each file's version, import resolutions and references). With
 * 900 files that walk, not the cell, was most of a lesson's time.
 *
 * How: each declaration file becomes an ambient module, `declare module
 * "hyperlab-dts:<path>" { ... }`, with every relative or bundled import,
 * export, `import("...")` type and module augmentation (tfjs' `declare module
 * '../../tensor'`) pointed at those names. Nothing is renamed or dropped: the
 * declarations are the same text, so autocomplete and type errors in a notebook
 * are those of the original files. The bare package names that were bundled
 * (`@tensorflow/tfjs`, `@tensorflow/tfjs-core`, ...) are declared too, as
 * re-exports of the bundled copy, so a notebook that also imports tfjs itself
 * gets the very same Tensor type. Packages under @types/ stay outside (every
 * TypeScript program reads them anyway).
 *
 *     node scripts/bundle-types.js      # after tsc (npm run build does both)
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'lib', 'index.d.ts');
const outBundle = path.join(root, 'dist', 'hyperlab.bundle.d.ts');
const outTypes = path.join(root, 'dist', 'hyperlab.d.ts');
const PREFIX = 'hyperlab-dts:';

// The module resolution tslab uses (Node10), so that the same files are found.
const options = { moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 };
const host = ts.createCompilerHost(options);

const rel = (file) => path.relative(root, file).split(path.sep).join('/');
const moduleName = (file) => PREFIX + rel(file).replace(/\.d\.ts$/, '');
/** Files under @types/ (and TypeScript's own libs) are left to the program; everything else resolved is bundled. */
const bundled = (file) => file.endsWith('.d.ts') && !/[\\/]node_modules[\\/]@types[\\/]/.test(file) && !/[\\/]typescript[\\/]lib[\\/]/.test(file);

/** The file `spec` names from `from`, or null (not found, or not a declaration file). */
function resolve(spec, from) {
  const r = ts.resolveModuleName(spec, from, options, host).resolvedModule;
  return r && r.resolvedFileName.endsWith('.d.ts') ? r.resolvedFileName : null;
}

const files = new Map(); // file -> { text, edits: [{start, end, text}] }
const packageNames = new Map(); // bare specifier -> file
const referenceTypes = new Set();
const queue = [entry];

while (queue.length) {
  const file = queue.pop();
  if (files.has(file)) continue;
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const edits = [];
  const info = { text, edits, sf };
  files.set(file, info);
  for (const r of sf.typeReferenceDirectives) referenceTypes.add(r.fileName);
  if (sf.referencedFiles.length) throw new Error(`${file}: /// <reference path> is not supported by scripts/bundle-types.js`);
  // Point a module specifier (a string literal node) at the bundled copy of what it resolves to.
  const point = (lit) => {
    const spec = lit.text;
    const target = resolve(spec, file);
    if (!target || !bundled(target)) {
      if (spec.startsWith('.')) throw new Error(`${file}: cannot resolve '${spec}' to a declaration file`);
      return;
    }
    if (!spec.startsWith('.')) packageNames.set(spec, packageNames.get(spec) ?? target);
    queue.push(target);
    edits.push({ start: lit.getStart(sf), end: lit.getEnd(), text: JSON.stringify(moduleName(target)) });
  };
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
      point(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) point(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) point(node.argument.literal);
    else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      // A module augmentation (`declare module '../../tensor' { ... }`): nested in an ambient module, without `declare`.
      point(node.name);
      const declare = (ts.getModifiers(node) ?? []).find((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
      if (declare) edits.push({ start: declare.getStart(sf), end: declare.getEnd(), text: '' });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // Inside `declare module "..." { }` everything is ambient already: a top-level `declare` would be an error there.
  for (const statement of sf.statements) {
    const declare = (ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : []).find((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
    if (declare && !(ts.isModuleDeclaration(statement) && ts.isStringLiteral(statement.name)))
      edits.push({ start: declare.getStart(sf), end: declare.getEnd() + 1, text: '' });
  }
  if (!ts.isExternalModule(sf)) throw new Error(`${file}: a global declaration file is not supported by scripts/bundle-types.js`);
}

const applyEdits = ({ text, edits }) => {
  let out = '';
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
};

const parts = [
  "// Generated by scripts/bundle-types.js from hyperlab's and its dependencies' declaration files: do not edit.",
  ...[...referenceTypes].sort().map((t) => `/// <reference types="${t}" />`),
];
for (const file of [...files.keys()].sort()) {
  const body = applyEdits(files.get(file))
    .replace(/^\/\/\/ <reference [^\n]*\n/gm, '')
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  parts.push(`declare module ${JSON.stringify(moduleName(file))} {\n${body.trimEnd()}\n}`);
}
// Not tslab: its kernel provides the `tslab` module to a notebook itself.
for (const [spec, file] of [...packageNames].sort().filter(([spec]) => spec !== 'tslab')) {
  parts.push(`declare module ${JSON.stringify(spec)} {\n  export * from ${JSON.stringify(moduleName(file))};\n}`);
}
fs.writeFileSync(outBundle, parts.join('\n') + '\n');
fs.writeFileSync(
  outTypes,
  [
    "// hyperlab's public types, in one bundle (scripts/bundle-types.js); the same declarations as dist/lib/index.d.ts.",
    '/// <reference path="./hyperlab.bundle.d.ts" />',
    `export * from ${JSON.stringify(moduleName(entry))};`,
    '',
  ].join('\n'),
);
console.log(
  `bundle-types: ${files.size} declaration files -> ${rel(outTypes)} and ${rel(outBundle)} (${(fs.statSync(outBundle).size / 2 ** 20).toFixed(1)} MB)`,
);
