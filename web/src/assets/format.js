// Numbers as the contract carries them: Quotation and MoneyValue are {units, nano}, units an
// int64 written as a string. Prices stay exact (BigInt nano) until they are drawn: a table shows
// them with the decimals of the instrument's own price step, the chart gets a float.

const NANO = 1000000000n;
const MINUS = '\u2212';
const GROUP = '\u202f'; // narrow no-break space between groups of three digits

export function toNano(q) {
  if (q == null) return null;
  return BigInt(q.units ?? 0) * NANO + BigInt(q.nano ?? 0);
}

export function toNumber(q) {
  if (q == null) return NaN;
  return Number(q.units ?? 0) + Number(q.nano ?? 0) / 1e9;
}

// Decimals of a price step: 0.01 → 2, 0.0005 → 4, 1 → 0.
export function stepDecimals(step) {
  const nano = step == null ? 0n : toNano(step) % NANO;
  if (nano === 0n) return 0;
  let digits = 9;
  let n = nano;
  while (n % 10n === 0n) {
    n /= 10n;
    digits--;
  }
  return digits;
}

function group(intText) {
  return intText.replace(/\B(?=(\d{3})+(?!\d))/g, GROUP);
}

// An exact decimal of `nano` with `decimals` digits after the point (rounded half away from 0).
export function formatNano(nano, decimals = 2) {
  if (nano == null) return '—';
  const negative = nano < 0n;
  let abs = negative ? -nano : nano;
  const unit = 10n ** BigInt(9 - decimals);
  abs = ((abs + unit / 2n) / unit) * unit;
  const int = abs / NANO;
  const frac = (abs % NANO).toString().padStart(9, '0').slice(0, decimals);
  const text = group(int.toString()) + (decimals > 0 ? `.${frac}` : '');
  return negative && abs !== 0n ? MINUS + text : text;
}

export function formatQuotation(q, decimals) {
  return formatNano(toNano(q), decimals);
}

// Money: its currency's two decimals (or more when the amount has them, up to 4) and its code.
export function formatMoney(m, withCurrency = true) {
  if (m == null) return '—';
  const nano = toNano(m);
  const cents = nano % 10000000n === 0n ? 2 : 4;
  const text = formatNano(nano, cents);
  return withCurrency && m.currency ? `${text} ${m.currency.toUpperCase()}` : text;
}

// "271.5" → {units: "271", nano: 500000000}; null when it is not a plain decimal.
export function parseDecimal(text) {
  const match = /^\s*(-?)(\d{1,18})(?:[.,](\d{1,9}))?\s*$/.exec(text ?? '');
  if (!match) return null;
  const sign = match[1] === '-' ? -1n : 1n;
  const units = BigInt(match[2]);
  const nano = BigInt((match[3] ?? '').padEnd(9, '0'));
  return { units: (sign * units).toString(), nano: Number(sign * nano) };
}

// Whether `price` (a Quotation) is a whole number of steps.
export function onStep(price, step) {
  const s = toNano(step);
  return s == null || s === 0n || toNano(price) % s === 0n;
}

export function formatTime(iso, withDate = false) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const text = d.toISOString();
  return withDate ? `${text.slice(0, 10)} ${text.slice(11, 19)}` : text.slice(11, 19);
}

// The short name of a contract enum value: ORDER_DIRECTION_BUY → BUY.
export function enumName(value, prefix) {
  if (value == null) return '—';
  return String(value).startsWith(prefix) ? String(value).slice(prefix.length) : String(value);
}

// Up and down are told apart by glyph and by a colour pair (blue/orange) that colour-blind
// readers can still separate; never by red/green alone.
export function directionMark(direction) {
  const d = String(direction ?? '');
  if (d.endsWith('_BUY')) return { glyph: '▲', cls: 'up', word: 'buy' };
  if (d.endsWith('_SELL')) return { glyph: '▼', cls: 'down', word: 'sell' };
  return { glyph: '·', cls: '', word: '' };
}
