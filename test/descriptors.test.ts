/**
 * XANESNET data side: wACSF and RDC against an independent numpy reference
 * (test/parity/gen_descriptors.py), the .xyz / FDMNES readers and writer, the bundled Fe K-edge
 * dataset, and the UCI table loaders. Tolerance for descriptors: rtol 1e-10, atol 1e-12: float64
 * on both sides, so only summation order differs (observed worst 1.2e-14 relative). That is
 * tight enough to tell float32-rounded coordinates (XANESNET's reader; up to 1e-6 relative)
 * from float64 ones, and an fc(r_jk) clamped at r_max (5e-5 relative in the synthetic case).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { test } from 'node:test';
import { tf } from '../lib/engine/tf';
import { useBackend } from '../lib/engine/backend';
import { makeDescriptor, RDC, WACSF } from '../lib/data/descriptors/index';
import { datasetsDir } from '../lib/data/paths';
import { pyExp, pyFixed } from '../lib/data/pyformat';
import { loadBreastCancer, loadDiabetes, loadDigits, loadIris, loadBuiltinTable, loadWine, tableToTensors } from '../lib/data/tables';
import {
  formatSpectrum,
  loadXanesDataset,
  loadXanesFe,
  parseSpectrum,
  parseXyz,
  readSpectrum,
  readXyz,
  writeSpectrum,
  xanesFeDirs,
  xanesToTensors,
} from '../lib/data/xanes';

const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'descriptors.json'), 'utf8'));
const FE = path.join(datasetsDir(), 'xanes-fe');
const DESC_TOL = { rtol: 1e-10, atol: 1e-12 };

/** |a - e| <= atol + rtol |e| elementwise, naming the worst element. */
function close(actual: ArrayLike<number>, expected: number[], where: string, tol = DESC_TOL): void {
  assert.equal(actual.length, expected.length, `${where}: ${actual.length} values, numpy has ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= tol.atol + tol.rtol * Math.abs(expected[i]))) {
      assert.fail(`${where}: element ${i} is ${actual[i]}, numpy gives ${expected[i]} (|diff| ${diff.toExponential(3)})`);
    }
  }
}

/** camelCase options from the fixture's XANESNET-named params (z -> zeta, l -> lambda, ...). */
function wacsfFromCase(params: Record<string, unknown>): WACSF {
  return WACSF.fromParams(params);
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-data-'));
}

// ---------------------------------------------------------------------------------------------
// Descriptors

test('wACSF matches the numpy reference on 5 bundled structures, every parameter set', () => {
  for (const [file, ref] of Object.entries<any>(fx.structures)) {
    const s = readXyz(path.join(FE, file));
    assert.equal(s.nAtoms, ref.n_atoms, `${file}: atom count`);
    assert.deepEqual(s.numbers, ref.z, `${file}: atomic numbers`);
    for (const [name, params] of Object.entries<any>(fx.cases)) {
      const d = wacsfFromCase(params);
      const v = d.transform(s);
      assert.equal(v.length, d.length, `${file} ${name}: length`);
      close(v, ref.wacsf[name], `${file} wACSF ${name}`);
    }
  }
});

test('wACSF with float32 coordinates reproduces XANESNET reader numbers', () => {
  for (const [file, ref] of Object.entries<any>(fx.structures)) {
    const s = readXyz(path.join(FE, file), { coordinates: 'float32' });
    close(new WACSF({ rMin: 1, rMax: 6, nG2: 16, nG4: 32 }).transform(s), ref.wacsf_float32_example, `${file} float32`);
  }
});

test('RDC matches the numpy reference (defaults: 801 points; a coarse grid)', () => {
  for (const [file, ref] of Object.entries<any>(fx.structures)) {
    const s = readXyz(path.join(FE, file));
    for (const [name, params] of Object.entries<any>(fx.rdc_cases)) {
      const d = RDC.fromParams(params);
      close(d.transform(s), ref.rdc[name], `${file} RDC ${name}`);
    }
  }
  assert.equal(new RDC().length, 801);
  const g = new RDC().grid;
  assert.equal(g[0], 0);
  assert.equal(g[800], 8);
  assert.equal(g[100], 100 * (8 / 800));
});

test('the example wACSF (r 1-6, n_g2 16, n_g4 32) has 49 features; defaults give G1 only', () => {
  const d = makeDescriptor({ type: 'wacsf', params: { r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32 } });
  assert.equal(d.length, 49);
  assert.equal(new WACSF().length, 1);
  assert.equal(new WACSF({ nG2: 4, nG4: 4, useCharge: true, useSpin: true }).length, 11);
  assert.deepEqual(d.toConfig().params, {
    r_min: 1,
    r_max: 6,
    n_g2: 16,
    n_g4: 32,
    l: [1, -1],
    z: [1],
    g2_parameterisation: 'shifted',
    g4_parameterisation: 'centred',
    use_charge: false,
    use_spin: false,
  });
  // A config round trip gives the same descriptor.
  const again = makeDescriptor(d.toConfig());
  const s = readXyz(path.join(FE, 'xyz_test', `${fx.test_split.ids[0]}.xyz`));
  assert.deepEqual(Array.from(again.transform(s)), Array.from(d.transform(s)));
});

test('a synthetic structure: symbols and Z mixed, q and S prefix, cutoff and unclamped fc(r_jk)', () => {
  const syn = fx.synthetic;
  const s = parseXyz(syn.text, { source: 'synthetic.xyz' });
  assert.deepEqual(s.numbers, syn.z);
  assert.deepEqual(s.info, { q: 1, S: 2.5 });
  close(new WACSF({ nG2: 4, nG4: 4, useCharge: true, useSpin: true }).transform(s), syn.wacsf, 'synthetic wACSF [q][S]');
  close(new WACSF({ nG2: 4, nG4: 4 }).transform(s), syn.wacsf_no_prefix, 'synthetic wACSF');
  close(new RDC({ dr: 0.5, useCharge: true, useSpin: true }).transform(s), syn.rdc, 'synthetic RDC [q][S]');
  // The carbon at 9 Å is outside r_max = 8 and must not count: G1 = sum of fc over 4 neighbours.
  const fc = (r: number) => (Math.cos((Math.PI * r) / 8) + 1) / 2;
  const r = [1.95, 5.5, Math.hypot(5.5, 0.1, 0.2), Math.hypot(0.3, 2.1, 1.0)];
  assert.ok(Math.abs(new WACSF().transform(s)[0] - r.reduce((a, x) => a + fc(x), 0)) < 1e-12);
});

test('descriptor parameter errors say what is wrong', () => {
  assert.throws(() => new WACSF({ nG4: 30, zeta: [1, 2] }), /can't generate 30 G4 symmetry functions with 2 lambda and 2 zeta/);
  assert.throws(() => new WACSF({ nG2: 1 }), /shifted parameterisation needs at least 2/);
  assert.throws(() => new WACSF({ rMin: 5, rMax: 4 }), /r_max must be a number > r_min/);
  assert.throws(() => makeDescriptor({ type: 'soap' }), /unknown descriptor type "soap".*dscribe/);
  assert.throws(() => makeDescriptor({ type: 'wacsf', params: { n_g3: 4 } }), /unknown parameter "n_g3"; known: r_min/);
  assert.throws(() => new RDC({ dr: 0 }), /dr must be a number with 0 < dr/);
  const s = parseXyz('2\nno info here\nFe 0 0 0\nO 0 0 1.9\n', { source: 'a.xyz' });
  assert.throws(() => new WACSF({ useCharge: true }).transform(s), /a\.xyz has no numeric "q" in its comment line/);
  const lonely = parseXyz('2\n\nFe 0 0 0\nO 0 0 9\n', { source: 'lonely.xyz' });
  assert.throws(() => new RDC().transform(lonely), /lonely\.xyz has no atom within r_max = 8\.00/);
  assert.deepEqual(Array.from(new WACSF({ nG2: 2, nG4: 2 }).transform(lonely)), [0, 0, 0, 0, 0]);
});

// ---------------------------------------------------------------------------------------------
// Readers, writer, dataset

test('the .xyz reader: count, comment, symbols or Z, absorber first; clear errors', () => {
  const s = parseXyz('3\nq = -1 | S = 0 | name = x\n26 0.0 0.0 0.0\nn\t1.9 0 0\nCL -2.1 0.5 0.25 extra\n');
  assert.equal(s.nAtoms, 3);
  assert.deepEqual(s.numbers, [26, 7, 17]);
  assert.deepEqual(Array.from(s.positions), [0, 0, 0, 1.9, 0, 0, -2.1, 0.5, 0.25]);
  assert.deepEqual(s.info, { q: -1, S: 0, name: 'x' });
  const bundled = readXyz(path.join(FE, 'xyz_train', 'ACODUR_C8H5FeNO2.xyz'));
  assert.equal(bundled.nAtoms, 17);
  assert.equal(bundled.numbers[0], 26, 'the absorber (Fe) is atom 0');
  assert.deepEqual(bundled.info, {});
  assert.throws(() => parseXyz('x\n\n', { source: 'f.xyz' }), /f\.xyz, line 1: expected the number of atoms, found "x"/);
  assert.throws(() => parseXyz('3\n\nFe 0 0 0\nO 1 0 0\n', { source: 'f.xyz' }), /line 1 says 3 atoms but only 2 coordinate lines follow/);
  assert.throws(() => parseXyz('1\n\nXx 0 0 0\n', { source: 'f.xyz' }), /f\.xyz, line 3: "Xx" is neither an element symbol nor an atomic number/);
  assert.throws(() => parseXyz('1\n\nFe 0 zero 0\n', { source: 'f.xyz' }), /line 3: coordinate y "zero" is not a number/);
  assert.throws(() => parseXyz('1\n\nFe 0 0\n', { source: 'f.xyz' }), /line 3: expected "symbol_or_Z x y z"/);
  assert.throws(() => readXyz('/nonexistent/a.xyz'), /structure \(\.xyz\) file \/nonexistent\/a\.xyz does not exist/);
});

test('the FDMNES reader and writer: byte-identical to XANESNET, round trip', () => {
  const file = path.join(FE, 'xanes_test', `${fx.fdmnes.id}.txt`);
  const sp = readSpectrum(file);
  assert.equal(sp.energies.length, 226);
  const text = formatSpectrum(sp);
  assert.equal(text, fx.fdmnes.text, 'formatSpectrum differs from Python save_xanes');
  assert.equal(text, fs.readFileSync(file, 'utf8'), 'the bundled file re-written is the same bytes');
  const dir = tmpDir();
  const out = path.join(dir, 'sub', 'pred.txt');
  const odd = { energies: Float64Array.from([7097.125, 7097.335, -1.005]), intensities: Float64Array.from([0.125, -0.0, 12345678.5]) };
  writeSpectrum(out, odd);
  assert.equal(
    fs.readFileSync(out, 'utf8'),
    '    FDMNES\n    energy     <xanes>\n   7097.12  1.2500000E-01\n   7097.34 -0.0000000E+00\n     -1.00  1.2345678E+07\n',
  );
  const back = readSpectrum(out);
  assert.deepEqual(Array.from(back.energies), [7097.12, 7097.34, -1.0]);
  assert.deepEqual(Array.from(back.intensities), [0.125, -0, 12345678]);
  assert.throws(
    () => parseSpectrum('FDMNES\nenergy <xanes>\n7097.0 abc\n', 's.txt'),
    /s\.txt, line 3: expected two numbers `energy intensity`, found "7097\.0 abc"/,
  );
  assert.throws(() => parseSpectrum('FDMNES\nenergy <xanes>\n', 's.txt'), /s\.txt: no `energy intensity` rows/);
});

test('Python float formatting, digit for digit (%10.2f and %15.7E, ties to even, -0)', () => {
  const f = fx.format;
  f.values.forEach((v: number, i: number) => {
    assert.equal(pyFixed(v, 2).padStart(10), f.fixed[i], `pyFixed(${v})`);
    assert.equal(pyExp(v, 7).padStart(15), f.exp[i], `pyExp(${v})`);
  });
  assert.equal(pyExp(NaN, 7), 'NAN');
  assert.equal(pyFixed(-Infinity, 2), '-inf');
});

test('the bundled Fe K-edge data: 100 train and 10 test samples, 226 points 7097..7172 eV', async () => {
  await useBackend('cpu');
  const d = new WACSF({ rMin: 1, rMax: 6, nG2: 16, nG4: 32 });
  const train = loadXanesFe('train', d);
  assert.equal(train.nSamples, 100);
  assert.equal(train.nFeatures, 49);
  assert.equal(train.nEnergies, 226);
  assert.equal(train.x.length, 100 * 49);
  assert.equal(train.y.length, 100 * 226);
  assert.equal(train.energies[0], 7097.0);
  assert.equal(train.energies[225], 7172.0);
  assert.deepEqual(train.unmatched, { xyz: [], xanes: [] });
  assert.ok(train.x.every(Number.isFinite) && train.y.every(Number.isFinite));
  const sorted = [...train.ids].sort();
  assert.deepEqual(train.ids, sorted);

  const test_ = loadXanesFe('test', { type: 'wacsf', params: { r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32 } });
  assert.deepEqual(test_.ids, fx.test_split.ids);
  close(test_.x, fx.test_split.x.flat(), 'test split descriptors');
  assert.deepEqual(Array.from(test_.y), fx.test_split.y.flat());
  assert.deepEqual(Array.from(test_.energies), fx.test_split.energies);

  const before = tf.memory().numTensors;
  const { x, y } = xanesToTensors(test_);
  assert.deepEqual(x.shape, [10, 49]);
  assert.deepEqual(y.shape, [10, 226]);
  x.dispose();
  y.dispose();
  assert.equal(tf.memory().numTensors, before, 'xanesToTensors leaked');
  assert.ok(fs.existsSync(xanesFeDirs('test').xyzDir));
});

test('loadXanesDataset: unmatched files are listed, a different energy grid is an error', () => {
  const dir = tmpDir();
  const xyzDir = path.join(dir, 'xyz');
  const txtDir = path.join(dir, 'xanes');
  fs.mkdirSync(xyzDir);
  fs.mkdirSync(txtDir);
  fs.writeFileSync(path.join(xyzDir, 'a.xyz'), '2\n\nFe 0 0 0\nO 0 0 1.9\n');
  fs.writeFileSync(path.join(txtDir, 'b.txt'), 'FDMNES\nenergy <xanes>\n1 2\n');
  assert.throws(
    () => loadXanesDataset(xyzDir, txtDir, new WACSF()),
    /no sample has both .*<id>\.xyz and .*<id>\.txt: \.xyz without a spectrum: a\.xyz; \.txt without a structure: b\.txt/,
  );
  fs.writeFileSync(path.join(txtDir, 'a.txt'), 'FDMNES\nenergy <xanes>\n1 0.5\n2 0.7\n');
  fs.writeFileSync(path.join(xyzDir, 'c.xyz'), '2\n\nFe 0 0 0\nN 0 1.8 0\n');
  fs.writeFileSync(path.join(txtDir, 'c.txt'), 'FDMNES\nenergy <xanes>\n1 0.5\n2.5 0.7\n');
  assert.throws(() => loadXanesDataset(xyzDir, txtDir, new WACSF()), /c\.txt: its energy grid \(2 points, 1 to 2\.5 eV\) differs from .*a\.txt's/);
  fs.writeFileSync(path.join(txtDir, 'c.txt'), 'FDMNES\nenergy <xanes>\n1 0.5\n2 0.9\n');
  const ds = loadXanesDataset(xyzDir, txtDir, new WACSF());
  assert.deepEqual(ds.ids, ['a', 'c']);
  assert.deepEqual(ds.unmatched, { xyz: [], xanes: ['b'] });
  assert.deepEqual(Array.from(ds.y), [0.5, 0.7, 0.5, 0.9]);
  assert.throws(() => loadXanesDataset(path.join(dir, 'nope'), txtDir, new WACSF()), /structure \(\.xyz\) folder .*nope does not exist/);
});

// ---------------------------------------------------------------------------------------------
// Tables

test('table loaders: row and column counts, first rows, targets', async () => {
  await useBackend('cpu');
  const cases = [
    { t: loadIris(), n: 150, f: 4, task: 'classification', classes: 3, first: [5.1, 3.5, 1.4, 0.2], y0: 0 },
    { t: loadWine(), n: 178, f: 13, task: 'classification', classes: 3, first: [14.23, 1.71, 2.43], y0: 0 },
    { t: loadBreastCancer(), n: 569, f: 30, task: 'binary', classes: 2, first: [17.99, 10.38, 122.8, 1001], y0: 0 },
    { t: loadDigits(), n: 1797, f: 64, task: 'classification', classes: 10, first: [0, 0, 5, 13, 9, 1, 0, 0], y0: 0 },
    { t: loadDiabetes(), n: 442, f: 10, task: 'regression', classes: 0, first: [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87], y0: 151 },
  ];
  for (const c of cases) {
    const { t } = c;
    assert.equal(t.nSamples, c.n, `${t.name} rows`);
    assert.equal(t.nFeatures, c.f, `${t.name} columns`);
    assert.equal(t.x.length, c.n * c.f);
    assert.equal(t.y.length, c.n);
    assert.equal(t.task, c.task);
    assert.equal(t.featureNames!.length, c.f, `${t.name} feature names`);
    close(t.x.subarray(0, c.first.length), c.first.map(Math.fround), `${t.name} first row`, { rtol: 0, atol: 0 });
    assert.equal(t.y[0], c.y0, `${t.name} first target`);
    if (c.classes) {
      assert.ok(t.y instanceof Int32Array);
      assert.equal(t.classNames!.length, c.classes);
      assert.equal(new Set(t.y).size, c.classes, `${t.name}: every class occurs`);
    } else {
      assert.ok(t.y instanceof Float32Array);
    }
  }
  assert.deepEqual(loadIris().classNames, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual(loadBreastCancer().classNames, ['malignant', 'benign']);
  assert.equal(loadBreastCancer().featureNames![29], 'worst fractal dimension');
  assert.deepEqual(loadDigits().imageShape, [8, 8]);
  assert.equal(loadBuiltinTable('wine').nSamples, 178);
  assert.throws(() => loadBuiltinTable('titanic'), /unknown table "titanic": choose one of iris, wine, breast_cancer, digits, diabetes/);
  const before = tf.memory().numTensors;
  const { x, y } = tableToTensors(loadIris());
  assert.deepEqual(x.shape, [150, 4]);
  assert.equal(y.dtype, 'int32');
  x.dispose();
  y.dispose();
  assert.equal(tf.memory().numTensors, before, 'tableToTensors leaked');
});

test('table loaders: malformed or missing files give errors naming the file, line and expectation', () => {
  const dir = tmpDir();
  const iris = path.join(dir, 'iris.csv');
  assert.throws(() => loadIris({ dir }), /table file .*iris\.csv is missing: expected scikit-learn's iris\.csv/);
  fs.writeFileSync(iris, '3,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,oops,0.2,0\n4.7,3.2,1.3,0.2,0\n');
  assert.throws(() => loadIris({ dir }), /iris\.csv, line 3, column 3: "oops" is not a number/);
  fs.writeFileSync(iris, '3,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0\n4.7,3.2,1.3,0.2,0\n');
  assert.throws(() => loadIris({ dir }), /iris\.csv, line 3: expected 5 values \(4 features then the class\), found 4/);
  fs.writeFileSync(iris, '3,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,7\n4.7,3.2,1.3,0.2,0\n');
  assert.throws(() => loadIris({ dir }), /iris\.csv, line 3, column 5: the class label "7" should be an integer from 0 to 2/);
  fs.writeFileSync(iris, '5,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n');
  assert.throws(() => loadIris({ dir }), /iris\.csv: the header promises 5 rows, the file has 1/);
  fs.writeFileSync(iris, '5.1,3.5,1.4,0.2,0\n');
  assert.throws(() => loadIris({ dir }), /iris\.csv, line 1: expected the header `n_samples,n_features,<class names\.\.\.>`/);
  fs.writeFileSync(path.join(dir, 'digits.csv.gz'), 'not gzip');
  assert.throws(() => loadDigits({ dir }), /digits\.csv\.gz: not a readable gzip file/);
  fs.writeFileSync(path.join(dir, 'diabetes_data_raw.csv.gz'), zlib.gzipSync('1 2 3 4 5 6 7 8 9 10\n1 2 3 4 5 6 7 8 9 10\n'));
  fs.writeFileSync(path.join(dir, 'diabetes_target.csv.gz'), zlib.gzipSync('151\n'));
  assert.throws(() => loadDiabetes({ dir }), /diabetes_data_raw\.csv\.gz has 2 rows but .*diabetes_target\.csv\.gz has 1/);
  fs.writeFileSync(path.join(dir, 'diabetes_target.csv.gz'), zlib.gzipSync('151\n75\n'));
  assert.equal(loadDiabetes({ dir }).nSamples, 2);
});
