/**
 * `Module`: the base of every layer and model, like `torch.nn.Module`.
 *
 * A subclass assigns its parameters and sub-modules as ordinary fields; they
 * are found by walking the fields in the order they were assigned, so names
 * come out as in PyTorch (`0.weight`, `encoder.1.bias`). Buffers (BatchNorm's
 * running statistics) are registered with `registerBuffer` and saved in the
 * state dict but never trained.
 *
 *     class Net extends Module {
 *       fc1 = new Linear(4, 8);
 *       fc2 = new Linear(8, 1);
 *       forward(x: Tensor) { return this.fc2.forward(relu(this.fc1.forward(x))); }
 *     }
 */
import { tf } from '../engine/tf';
import { Parameter } from './parameter';

export type Tensor = tf.Tensor;
export type StateDict = Record<string, tf.Tensor>;

export abstract class Module {
  /** True in training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly buffers = new Map<string, tf.Tensor>();

  abstract forward(...inputs: any[]): any;

  /** A short description of the layer's settings, shown by summary() and toString(). */
  extraRepr(): string {
    return '';
  }

  // ---- structure -------------------------------------------------------

  /** Direct sub-modules with their field names. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) yield [key, value];
    }
  }

  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every module below it, pre-order, each once. */
  *namedModules(prefix = '', seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) {
      yield* child.namedModules(prefix ? `${prefix}.${name}` : name, seen);
    }
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Parameters owned directly by this module (not its children). */
  *ownParameters(): Generator<[string, Parameter]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Parameter) yield [key, value];
    }
  }

  /** Every parameter with its PyTorch name; a parameter shared by two layers is listed once. */
  *namedParameters(): Generator<[string, Parameter]> {
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [prefix ? `${prefix}.${key}` : key, p];
      }
    }
  }

  /** Every parameter (the list an optimizer takes). */
  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  // ---- buffers -----------------------------------------------------------

  /** Register (or replace) a non-trainable tensor saved with the state dict. Takes ownership. */
  registerBuffer(name: string, value: tf.Tensor): void {
    const old = this.buffers.get(name);
    if (old && old !== value) old.dispose();
    tf.keep(value);
    this.buffers.set(name, value);
  }

  getBuffer(name: string): tf.Tensor {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name} has no buffer named '${name}'`);
    return b;
  }

  *namedBuffers(): Generator<[string, tf.Tensor]> {
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, b] of m.buffers) yield [prefix ? `${prefix}.${key}` : key, b];
    }
  }

  // ---- modes and freezing ---------------------------------------------------

  /** Training mode for this module and all below it (`model.train()`). */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (`model.eval()`): dropout off, batch norm uses running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Freeze (false) or unfreeze (true) every parameter (`module.requires_grad_(flag)`). */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** True when every parameter requires a gradient; setting it freezes or unfreezes them all. */
  get requiresGrad(): boolean {
    return this.parameters().every((p) => p.requiresGrad);
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  /** Clear every parameter's gradient (`model.zero_grad()`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Call `fn` on every module, children first (`model.apply(fn)`). */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- state dict -------------------------------------------------------------

  /**
   * Parameters and buffers by PyTorch key, in PyTorch's order and layout.
   * The tensors are the module's own (not copies): read them, do not dispose them.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const seen = new Set<tf.Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      const key = (k: string) => (prefix ? `${prefix}.${k}` : k);
      for (const [k, p] of m.ownParameters()) {
        if (!seen.has(p)) out[key(k)] = p;
        seen.add(p);
      }
      for (const [k, b] of m.buffers) out[key(k)] = b;
    }
    return out;
  }

  /**
   * Copy values into the parameters and buffers. With `strict` (the default), a
   * missing or unexpected key is an error; a shape mismatch always is. The
   * values are copied: the caller still owns (and may dispose) `state`.
   */
  loadStateDict(state: StateDict, strict = true): { missingKeys: string[]; unexpectedKeys: string[] } {
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !(k in own));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      throw new Error(
        `loadStateDict(${this.constructor.name}): ` +
          (missingKeys.length ? `missing keys [${missingKeys.join(', ')}]` : '') +
          (missingKeys.length && unexpectedKeys.length ? '; ' : '') +
          (unexpectedKeys.length ? `unexpected keys [${unexpectedKeys.join(', ')}]` : '') +
          '. Check that the state dict comes from the same architecture, or pass strict = false.',
      );
    }
    // Check every shape before changing anything, so a bad dict leaves the model as it was.
    for (const [k, target] of Object.entries(own)) {
      const src = state[k];
      if (src && src.shape.join(',') !== target.shape.join(',')) {
        throw new Error(
          `loadStateDict(${this.constructor.name}): size mismatch for '${k}': ` +
            `the state dict has shape [${src.shape}], the model expects [${target.shape}]`,
        );
      }
    }
    for (const [prefix, m] of this.namedModules()) {
      const key = (k: string) => (prefix ? `${prefix}.${k}` : k);
      for (const [k, p] of m.ownParameters()) {
        const src = state[key(k)];
        if (src) p.copy_(src);
      }
      for (const [k, b] of [...m.buffers]) {
        const src = state[key(k)];
        if (src)
          m.registerBuffer(
            k,
            tf.tidy(() => tf.cast(src, b.dtype).clone()),
          );
      }
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Free every parameter, gradient and buffer. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const [, p] of m.ownParameters()) if (!p.isDisposed) p.dispose();
      for (const b of m.buffers.values()) b.dispose();
      m.buffers.clear();
    }
  }

  /** PyTorch-style printout of the module tree. */
  toString(): string {
    const kids = [...this.namedChildren()];
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (kids.length === 0) return `${head})`;
    const lines = kids.map(([n, m]) => `  (${n}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}
