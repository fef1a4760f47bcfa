/**
 * Floating-point helpers that reproduce Go's and Prometheus's numerics exactly where results are compared
 * bit for bit: Neumaier-compensated (Kahan) summation, Go's `math.Pow` special cases, quantiles.
 */

/** One step of Kahan-Neumaier summation; returns the new sum and compensation. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  return [sum + inc, kahanCompensation(inc, sum, c)];
}

/**
 * The compensation after one step of Kahan-Neumaier summation; the new sum is `sum + inc`. Hot loops use it
 * rather than `kahanSumInc`, which allocates a pair per step.
 */
export function kahanCompensation(inc: number, sum: number, c: number): number {
  const t = sum + inc;
  if (t === Number.POSITIVE_INFINITY || t === Number.NEGATIVE_INFINITY) return 0;
  if (Math.abs(sum) >= Math.abs(inc)) return c + (sum - t + inc);
  return c + (inc - t + sum);
}

export function kahanSum(values: ArrayLike<number>, from = 0, to = values.length): number {
  let sum = 0;
  let c = 0;
  for (let i = from; i < to; i++) {
    const f = values[i] as number;
    c = kahanCompensation(f, sum, c);
    sum += f;
  }
  if (sum === Number.POSITIVE_INFINITY || sum === Number.NEGATIVE_INFINITY) return sum;
  return sum + c;
}

/** Mean with direct summation, falling back to incremental mean when the running sum would overflow. */
export function robustMean(values: ArrayLike<number>, from = 0, to = values.length): number {
  let sum = values[from] as number;
  let count = 1;
  let mean = 0;
  let kahanC = 0;
  let incremental = false;
  for (let i = from + 1; i < to; i++) {
    const f = values[i] as number;
    count = i - from + 1;
    if (!incremental) {
      const next = sum + f;
      if (next !== Number.POSITIVE_INFINITY && next !== Number.NEGATIVE_INFINITY) {
        kahanC = kahanCompensation(f, sum, kahanC);
        sum = next;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      kahanC /= count - 1;
    }
    const q = (count - 1) / count;
    const inc = f / count;
    const scaled = q * mean;
    kahanC = kahanCompensation(inc, scaled, q * kahanC);
    mean = scaled + inc;
  }
  if (incremental) return mean + kahanC;
  return sum / count + kahanC / count;
}

/** Go's `math.Pow`, which differs from `**` for a few special cases. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Number.POSITIVE_INFINITY || y === Number.NEGATIVE_INFINITY)) return 1;
  return x ** y;
}

/** Prometheus's `quantile`: linear interpolation between the closest ranks; NaN sorts first. */
export function quantile(q: number, input: readonly number[]): number {
  if (input.length === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const values = [...input].sort(compareWithNaNFirst);
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return (values[lowerIndex] as number) * (1 - weight) + (values[upperIndex] as number) * weight;
}

export function compareWithNaNFirst(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const MIN_NORMAL = 2.2250738585072014e-308;

/** Prometheus's `almost.Equal`: relative tolerance, and NaN equals NaN. */
export function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an exponent. */
export function formatFloatPlain(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Number.POSITIVE_INFINITY) return "+Inf";
  if (f === Number.NEGATIVE_INFINITY) return "-Inf";
  const s = String(f);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (m === null) return s;
  const [, sign = "", int = "", frac = "", expText = "0"] = m;
  const exp = Number(expText);
  const digits = int + frac;
  const point = int.length + exp;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Go's `%g` for warning messages. */
export function formatFloatG(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Number.POSITIVE_INFINITY) return "+Inf";
  if (f === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(f);
}
