/** Colour, only when wanted: chalk is loaded lazily, and never when output is not a terminal. */
export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plain: Paint = {
  green: (s) => s,
  red: (s) => s,
  yellow: (s) => s,
  dim: (s) => s,
  bold: (s) => s,
};

/**
 * Colour functions: chalk's basic 16 colours when `color` is true (loaded only then), the
 * identity otherwise. The caller decides `color` (the context's: a terminal, no NO_COLOR, no
 * --no-color, no --json). Never throws.
 */
export async function makePaint(color: boolean): Promise<Paint> {
  if (!color) return plain;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { green: c.green, red: c.red, yellow: c.yellow, dim: c.dim, bold: c.bold };
}

/** A spinner on a terminal (ora, loaded lazily); silent otherwise. */
export interface Spinner {
  update(text: string): void;
  stop(): void;
}

/**
 * Start an ora spinner on stderr showing `text` when `enabled` (a terminal and colour);
 * otherwise a spinner that does nothing. Returns it; call stop() before printing results.
 */
export async function startSpinner(enabled: boolean, text: string): Promise<Spinner> {
  if (!enabled) return { update() {}, stop() {} };
  const { default: ora } = await import('ora');
  const s = ora({ text, stream: process.stderr }).start();
  return {
    update: (t) => {
      s.text = t;
    },
    stop: () => s.stop(),
  };
}
