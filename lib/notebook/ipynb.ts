/**
 * The .ipynb file format (nbformat 4), as much of it as the runner needs:
 * cells with their source, and the outputs a kernel produces.
 */
import * as fs from 'node:fs';

export type MultilineString = string | string[];

export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: MultilineString;
}
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: Record<string, MultilineString>;
  metadata: Record<string, unknown>;
  /** Not saved in files: which display this is, for update_display_data. */
  transient?: { display_id?: string };
}
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  execution_count: number | null;
  data: Record<string, MultilineString>;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: MultilineString;
  metadata: Record<string, unknown>;
  id?: string;
  execution_count?: number | null;
  outputs?: Output[];
  attachments?: unknown;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: Cell[];
}

/** A multiline string as one string (nbformat stores it as a list of lines or as one string). */
export const text = (s: MultilineString | undefined): string => (Array.isArray(s) ? s.join('') : (s ?? ''));

/** The kernel metadata Jupyter shows for tslab notebooks. */
export const TSLAB_METADATA = {
  kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
  language_info: {
    codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
    file_extension: '.ts',
    mimetype: 'text/typescript',
    name: 'typescript',
    version: '3.7.2',
  },
};

export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable notebook (${(e as Error).message})`);
  }
  if (!nb || !Array.isArray(nb.cells) || nb.nbformat !== 4) {
    throw new Error(`${file}: not an nbformat 4 notebook (no "cells" list or "nbformat": ${nb?.nbformat}); save it from Jupyter again`);
  }
  return nb;
}

/** Write a notebook the way Jupyter does (one-space indent, a final newline), without transient fields. */
export function writeNotebook(file: string, nb: Notebook): void {
  const json = JSON.stringify(nb, (k, v) => (k === 'transient' ? undefined : v), 1);
  fs.writeFileSync(file, json + '\n');
}

/** A new notebook from cell sources: strings are code cells, `{ md: '...' }` markdown cells. */
export function makeNotebook(cells: (string | { md: string })[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { ...TSLAB_METADATA },
    cells: cells.map((c, i) => {
      const base = { id: `cell-${i}`, metadata: {} };
      if (typeof c === 'string') return { ...base, cell_type: 'code', source: c, execution_count: null, outputs: [] };
      return { ...base, cell_type: 'markdown', source: c.md };
    }),
  };
}
