/** Chemical element symbols and atomic numbers (Z = 1..118), for reading .xyz structures. */

// prettier-ignore
const SYMBOLS = [
  'H', 'He', 'Li', 'Be', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Na', 'Mg', 'Al', 'Si', 'P', 'S', 'Cl', 'Ar',
  'K', 'Ca', 'Sc', 'Ti', 'V', 'Cr', 'Mn', 'Fe', 'Co', 'Ni', 'Cu', 'Zn', 'Ga', 'Ge', 'As', 'Se', 'Br', 'Kr',
  'Rb', 'Sr', 'Y', 'Zr', 'Nb', 'Mo', 'Tc', 'Ru', 'Rh', 'Pd', 'Ag', 'Cd', 'In', 'Sn', 'Sb', 'Te', 'I', 'Xe',
  'Cs', 'Ba', 'La', 'Ce', 'Pr', 'Nd', 'Pm', 'Sm', 'Eu', 'Gd', 'Tb', 'Dy', 'Ho', 'Er', 'Tm', 'Yb', 'Lu',
  'Hf', 'Ta', 'W', 'Re', 'Os', 'Ir', 'Pt', 'Au', 'Hg', 'Tl', 'Pb', 'Bi', 'Po', 'At', 'Rn',
  'Fr', 'Ra', 'Ac', 'Th', 'Pa', 'U', 'Np', 'Pu', 'Am', 'Cm', 'Bk', 'Cf', 'Es', 'Fm', 'Md', 'No', 'Lr',
  'Rf', 'Db', 'Sg', 'Bh', 'Hs', 'Mt', 'Ds', 'Rg', 'Cn', 'Nh', 'Fl', 'Mc', 'Lv', 'Ts', 'Og',
];

const Z_OF: Record<string, number> = Object.fromEntries(SYMBOLS.map((s, i) => [s.toLowerCase(), i + 1]));

/** The symbol of atomic number z (1..118). */
export function elementSymbol(z: number): string {
  const s = SYMBOLS[z - 1];
  if (!Number.isInteger(z) || s === undefined) throw new Error(`no element has atomic number ${z} (expected 1..118)`);
  return s;
}

/**
 * The atomic number of an element symbol ("Fe", case-insensitive) or of a number written as
 * text ("26"); undefined when it is neither.
 */
export function atomicNumber(symbolOrZ: string): number | undefined {
  if (/^\d+$/.test(symbolOrZ)) {
    const z = Number(symbolOrZ);
    return z >= 1 && z <= SYMBOLS.length ? z : undefined;
  }
  return Z_OF[symbolOrZ.toLowerCase()];
}
