/**
 * wACSF: weighted atom-centred symmetry functions around the absorber (atom 0), exactly as
 * XANESNET's src/structure/wacsf.py (Gastegger et al., J. Chem. Phys. 148, 241709 (2018)).
 *
 * Only atoms with r0j < r_max count (j, k run over them, excluding the absorber). With
 * fc(r) = (cos(pi r / r_max) + 1) / 2 (not clamped: a pair j, k farther apart than r_max still
 * counts) and g(r) = exp(-eta (r - mu)^2):
 *
 *   G1      = sum_j fc(r0j)
 *   G2_m    = sum_j 0.1 Z_j g_m(r0j) fc(r0j)                                      m = 1..n_g2
 *   G4      = 2^(1-zeta) sum_{j<k} 0.1 Z_j 0.1 Z_k (1 + lambda cos theta_jik)^zeta
 *                          g(r0j) fc(r0j) g(r0k) fc(r0k) g(rjk) fc(rjk)
 *
 * theta_jik is the angle at the absorber between j and k. The vector is [q][S] G1 G2... G4...,
 * of length 1 + n_g2 + n_g4 (+1 for each of q, S).
 *
 * The (eta, mu) lists:
 *   shifted (G2 default): mu = linspace(r_min + 0.5, r_max - 0.5, n), eta = 1 / (2 dmu^2)
 *   centred (G4 default): r = linspace(r_min + 1, r_max - 0.5, n), eta = 1 / (2 r^2), mu = 0
 * For G4 the list is made for n = n_g4 and then truncated to its first n_g4 / (|lambda| |zeta|)
 * entries, and the functions run eta -> lambda -> zeta (zeta fastest).
 */
import type { Structure } from '../structure';
import {
  atomsInRange,
  checkFlag,
  checkRadii,
  cosineCutoff,
  DescriptorConfig,
  distance,
  infoPrefix,
  numpyLinspace,
  optionsFromParams,
  StructureDescriptor,
} from './common';

export type WACSFParameterisation = 'shifted' | 'centred';

export interface WACSFOptions {
  /** Inner radius (Å) of the Gaussian grid; default 0. */
  rMin?: number;
  /** Cutoff radius (Å); default 8. */
  rMax?: number;
  /** Number of radial G2 functions; default 0. */
  nG2?: number;
  /** Number of angular G4 functions; a multiple of |lambda| * |zeta|; default 0. */
  nG4?: number;
  /** G4 lambda values; default [1, -1]. */
  lambda?: number[];
  /** G4 zeta values; default [1]. */
  zeta?: number[];
  g2Parameterisation?: WACSFParameterisation;
  g4Parameterisation?: WACSFParameterisation;
  /** Prepend the charge q from the .xyz comment line. */
  useCharge?: boolean;
  /** Prepend the spin S from the .xyz comment line. */
  useSpin?: boolean;
}

/** XANESNET's parameter names -> ours. */
export const WACSF_PARAM_NAMES: Record<string, keyof WACSFOptions & string> = {
  r_min: 'rMin',
  r_max: 'rMax',
  n_g2: 'nG2',
  n_g4: 'nG4',
  l: 'lambda',
  z: 'zeta',
  g2_parameterisation: 'g2Parameterisation',
  g4_parameterisation: 'g4Parameterisation',
  use_charge: 'useCharge',
  use_spin: 'useSpin',
};

/** (eta, mu) for n symmetry functions. */
function symmetryFunctionParams(n: number, rMin: number, rMax: number, p: WACSFParameterisation, who: string): { eta: number[]; mu: number[] } {
  if (p === 'shifted') {
    if (n < 2) throw new Error(`${who}: the shifted parameterisation needs at least 2 functions (the spacing sets eta), got ${n}`);
    const r = numpyLinspace(rMin + 0.5, rMax - 0.5, n);
    const dr = r[1] - r[0];
    return { eta: Array.from(r, () => 1.0 / (2.0 * (dr * dr))), mu: Array.from(r) };
  }
  if (p === 'centred') {
    const r = numpyLinspace(rMin + 1.0, rMax - 0.5, n);
    return { eta: Array.from(r, (ri) => 1.0 / (2.0 * (ri * ri))), mu: Array.from(r, () => 0.0) };
  }
  throw new Error(`${who}: parameterisation must be 'shifted' or 'centred' (see DOI 10.1063/1.5019667), got '${p}'`);
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`WACSF: ${what} must be an integer >= 0, got ${n}`);
}

function checkList(v: number[], what: string): void {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`WACSF: ${what} must be a non-empty list of numbers, got ${JSON.stringify(v)}`);
  }
}

export class WACSF implements StructureDescriptor {
  readonly type = 'wacsf';
  readonly rMin: number;
  readonly rMax: number;
  readonly nG2: number;
  readonly nG4: number;
  readonly lambda: number[];
  readonly zeta: number[];
  readonly g2Parameterisation: WACSFParameterisation;
  readonly g4Parameterisation: WACSFParameterisation;
  readonly useCharge: boolean;
  readonly useSpin: boolean;
  private readonly g2: { eta: number[]; mu: number[] };
  private readonly g4: { eta: number[]; mu: number[] };

  constructor(opts: WACSFOptions = {}) {
    this.rMin = opts.rMin ?? 0.0;
    this.rMax = opts.rMax ?? 8.0;
    this.nG2 = opts.nG2 ?? 0;
    this.nG4 = opts.nG4 ?? 0;
    this.lambda = [...(opts.lambda ?? [1.0, -1.0])];
    this.zeta = [...(opts.zeta ?? [1.0])];
    this.g2Parameterisation = opts.g2Parameterisation ?? 'shifted';
    this.g4Parameterisation = opts.g4Parameterisation ?? 'centred';
    this.useCharge = opts.useCharge ?? false;
    this.useSpin = opts.useSpin ?? false;
    checkRadii(this.rMin, this.rMax, 'WACSF');
    checkCount(this.nG2, 'n_g2');
    checkCount(this.nG4, 'n_g4');
    checkList(this.lambda, 'lambda (l)');
    checkList(this.zeta, 'zeta (z)');
    checkFlag(this.useCharge, 'use_charge');
    checkFlag(this.useSpin, 'use_spin');
    this.g2 = this.nG2 ? symmetryFunctionParams(this.nG2, this.rMin, this.rMax, this.g2Parameterisation, 'WACSF G2') : { eta: [], mu: [] };
    this.g4 = { eta: [], mu: [] };
    if (this.nG4) {
      const per = this.lambda.length * this.zeta.length;
      if (this.nG4 % per) {
        throw new Error(
          `WACSF: can't generate ${this.nG4} G4 symmetry functions with ${this.lambda.length} lambda and ` +
            `${this.zeta.length} zeta value(s); n_g4 must be a multiple of ${per}`,
        );
      }
      const all = symmetryFunctionParams(this.nG4, this.rMin, this.rMax, this.g4Parameterisation, 'WACSF G4');
      const keep = this.nG4 / per; // XANESNET truncates the list to its first n_g4 / (|l| |z|) entries
      this.g4 = { eta: all.eta.slice(0, keep), mu: all.mu.slice(0, keep) };
    }
  }

  get length(): number {
    return 1 + this.nG2 + this.nG4 + (this.useCharge ? 1 : 0) + (this.useSpin ? 1 : 0);
  }

  transform(s: Structure): Float64Array {
    const out = new Float64Array(this.length);
    let o = 0;
    for (const v of infoPrefix(s, this.useCharge, this.useSpin, 'WACSF')) out[o++] = v;
    const { z, pos } = atomsInRange(s, this.rMax);
    const n = z.length;
    const r0 = new Float64Array(n);
    const fc0 = new Float64Array(n);
    for (let j = 1; j < n; j++) {
      r0[j] = distance(pos, 0, j);
      fc0[j] = cosineCutoff(r0[j], this.rMax);
    }

    // G1 = sum_j fc(r0j)
    let g1 = 0;
    for (let j = 1; j < n; j++) g1 += fc0[j];
    out[o++] = g1;

    // G2_m = sum_j 0.1 Z_j exp(-eta_m (r0j - mu_m)^2) fc(r0j)
    for (let m = 0; m < this.g2.eta.length; m++) {
      const eta = this.g2.eta[m];
      const mu = this.g2.mu[m];
      let sum = 0;
      for (let j = 1; j < n; j++) sum += 0.1 * z[j] * Math.exp(-eta * (r0[j] - mu) ** 2) * fc0[j];
      out[o++] = sum;
    }

    if (this.nG4) o = this.angular(z, pos, r0, fc0, out, o);
    return out;
  }

  /** The G4 block, written into out from index o; returns the next index. */
  private angular(z: number[], pos: Float64Array, r0: Float64Array, fc0: Float64Array, out: Float64Array, o: number): number {
    const n = z.length;
    // Pairs j < k of neighbours: weights, cos theta_jik, r_jk and fc(r_jk).
    const pj: number[] = [];
    const pk: number[] = [];
    const w: number[] = [];
    const cos: number[] = [];
    const rjk: number[] = [];
    const fcjk: number[] = [];
    for (let j = 1; j < n; j++) {
      for (let k = j + 1; k < n; k++) {
        let dot = 0;
        for (let d = 0; d < 3; d++) dot += (pos[3 * j + d] - pos[d]) * (pos[3 * k + d] - pos[d]);
        pj.push(j);
        pk.push(k);
        w.push(0.1 * z[j] * (0.1 * z[k]));
        cos.push(dot / (r0[j] * r0[k]));
        const r = distance(pos, j, k);
        rjk.push(r);
        fcjk.push(cosineCutoff(r, this.rMax)); // r_jk may exceed r_max: fc is not clamped
      }
    }
    const radial = new Float64Array(w.length);
    for (let m = 0; m < this.g4.eta.length; m++) {
      const eta = this.g4.eta[m];
      const mu = this.g4.mu[m];
      for (let p = 0; p < w.length; p++) {
        const j = pj[p];
        const k = pk[p];
        radial[p] = Math.exp(-eta * (r0[j] - mu) ** 2) * fc0[j] * Math.exp(-eta * (r0[k] - mu) ** 2) * fc0[k] * Math.exp(-eta * (rjk[p] - mu) ** 2) * fcjk[p];
      }
      for (const lambda of this.lambda) {
        for (const zeta of this.zeta) {
          let sum = 0;
          for (let p = 0; p < w.length; p++) sum += w[p] * (1.0 + lambda * cos[p]) ** zeta * radial[p];
          out[o++] = sum * 2.0 ** (1.0 - zeta);
        }
      }
    }
    return o;
  }

  toConfig(): DescriptorConfig {
    return {
      type: 'wacsf',
      params: {
        r_min: this.rMin,
        r_max: this.rMax,
        n_g2: this.nG2,
        n_g4: this.nG4,
        l: this.lambda,
        z: this.zeta,
        g2_parameterisation: this.g2Parameterisation,
        g4_parameterisation: this.g4Parameterisation,
        use_charge: this.useCharge,
        use_spin: this.useSpin,
      },
    };
  }

  /** From a XANESNET params block (r_min, r_max, n_g2, n_g4, l, z, ...) or camelCase options. */
  static fromParams(params: Record<string, unknown> = {}): WACSF {
    return new WACSF(optionsFromParams<WACSFOptions>(params, WACSF_PARAM_NAMES, 'wacsf descriptor'));
  }
}
