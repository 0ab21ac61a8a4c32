/**
 * A scan of what leaves a store for personal data (research/sync.md G12, T12): e-mail
 * addresses, phone numbers, payment card numbers (Luhn-valid), IBANs (mod-97-valid), and any of
 * the shopper tokens the store knows (the per-visit app QR or payment token, which must stay in
 * the store). Used by the scenario runner on every uplink message HQ receives, and by tests; a
 * hit names its kind and where it was, never the value itself beyond a masked preview.
 *
 * Formats are checked, not guessed from entropy: ids, hashes and signatures in the sync contract
 * are random by design, so an entropy rule would flag every message.
 */

export type PiiKind = 'email' | 'phone' | 'card' | 'iban' | 'shopper-token';

export interface PiiHit {
  kind: PiiKind;
  /** Character offset in the scanned text. */
  at: number;
  /** The first and last two characters, the rest masked. */
  preview: string;
}

export interface PiiScanOptions {
  /** Exact strings that must not appear (the store's shopper tokens); at least 8 characters each. */
  secrets?: Iterable<string>;
}

const email = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** +49 30 1234567, (030) 123-4567, 0049 151 23456789: a leading + or 00 or (, then 9–15 digits with separators. */
const phone = /(?<![\w.])(?:\+|00|\()[0-9][0-9 ()./-]{7,20}[0-9](?![\w.])/g;
/** 13–19 digits, optionally in groups separated by single spaces or dashes. */
const cardLike = /(?<![\w.])[0-9](?:[ -]?[0-9]){12,18}(?![\w.])/g;
const ibanLike = /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;

/** Personal data found in `text` (empty when none). */
export function scanForPii(text: string, options: PiiScanOptions = {}): PiiHit[] {
  const hits: PiiHit[] = [];
  /** Spans of card numbers: a phone number inside one is the card, reported once. */
  const cards: Array<[number, number]> = [];
  const add = (kind: PiiKind, at: number, value: string) => hits.push({ kind, at, preview: mask(value) });
  for (const m of text.matchAll(email)) add('email', m.index, m[0]);
  for (const m of text.matchAll(cardLike)) {
    const digits = m[0].replace(/\D/g, '');
    if (luhnValid(digits) && /^[2-6]/.test(digits)) {
      add('card', m.index, m[0]);
      cards.push([m.index, m.index + m[0].length]);
    }
  }
  for (const m of text.matchAll(phone)) {
    const digits = m[0].replace(/\D/g, '');
    const inCard = cards.some(([from, to]) => m.index < to && m.index + m[0].length > from);
    if (!inCard && digits.length >= 9 && digits.length <= 15) add('phone', m.index, m[0]);
  }
  for (const m of text.matchAll(ibanLike)) {
    if (ibanValid(m[0].replace(/ /g, ''))) add('iban', m.index, m[0]);
  }
  for (const secret of options.secrets ?? []) {
    if (secret.length < 8) continue;
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) add('shopper-token', at, secret);
  }
  return hits.sort((a, b) => a.at - b.at);
}

/** Luhn checksum (ISO/IEC 7812-1), as payment card numbers carry. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

/** ISO 13616 check digits: the rearranged number mod 97 is 1. */
export function ibanValid(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) rest = (rest * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}

function mask(value: string): string {
  return value.length <= 4 ? '*'.repeat(value.length) : `${value.slice(0, 2)}${'*'.repeat(value.length - 4)}${value.slice(-2)}`;
}
