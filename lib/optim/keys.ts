/** Option names: camelCase in TypeScript (`weightDecay`), snake_case in PyTorch and run files (`weight_decay`). */
export const camelToSnake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const snakeToCamel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
