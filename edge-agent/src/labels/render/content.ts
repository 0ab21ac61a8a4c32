import { z } from 'zod';
import { errors } from '../../errors.ts';
import { isValidGtin } from './ean13.ts';

/** What a shelf label shows. Prices are in minor units of `currency` (cents, fen; yen have none). */
export const labelContent = z.object({
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  priceMinor: z.number().int().nonnegative().max(99_999_999),
  /** ISO 4217 code. */
  currency: z.string().regex(/^[A-Z]{3}$/),
  /** The "was" price of a discount: the lowest price of the prior 30 days (EU rule), shown struck through. */
  wasPriceMinor: z.number().int().nonnegative().max(99_999_999).optional(),
  /** A short promotion line ("2 for 1", "特价"), shown in a red or yellow banner where the palette has one. */
  promoText: z.string().min(1).max(60).optional(),
  /** Unit price as the pricing service states it ("€4.98 / kg"). */
  unitPriceText: z.string().min(1).max(60).optional(),
  /** GTIN-14 with a valid check digit; one with indicator digit 0 is drawn as an EAN-13. */
  gtin: z.string().regex(/^\d{14}$/).refine(isValidGtin, 'the last digit is not the GS1 check digit of the others'),
  /** A URL for the QR code (product page, allergens), where the label has room. */
  qrUrl: z.string().min(1).max(300).optional(),
  /** Loyalty-member price. */
  memberPriceMinor: z.number().int().nonnegative().max(99_999_999).optional(),
});
export type LabelContent = z.infer<typeof labelContent>;

/** Validates label content; EDGE_ERR_LABEL_CONTENT_INVALID names every field that is wrong. */
export function parseLabelContent(input: unknown): LabelContent {
  const parsed = labelContent.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(content)'}: ${issue.message}`);
    throw errors.EDGE_ERR_LABEL_CONTENT_INVALID(`label content is not valid: ${issues.join('; ')}`, { details: issues });
  }
  if (!currencies.has(parsed.data.currency)) {
    throw errors.EDGE_ERR_LABEL_CONTENT_INVALID(`label content is not valid: currency: "${parsed.data.currency}" is not an ISO 4217 currency`);
  }
  return parsed.data;
}

/** A price split for drawing: the currency sign, the major part and the minor part with its separator. */
export interface PriceParts {
  symbol: string;
  /** The sign comes after the amount ("12,99 €" in de). */
  symbolAfter: boolean;
  major: string;
  /** Decimal separator and minor digits (".99"); empty for currencies without minor units. */
  minor: string;
}

/** ISO 4217 codes this Node's ICU knows. */
const currencies = new Set(Intl.supportedValuesOf('currency'));

const formats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    formats.set(key, format);
  }
  return format;
}

/** `priceMinor` of `currency` split into parts in `locale`'s style (Intl, so "¥", "€", "£" and the minor digits are right). */
export function priceParts(priceMinor: number, currency: string, locale: string): PriceParts {
  const format = currencyFormat(currency, locale);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const parts = format.formatToParts(priceMinor / 10 ** digits);
  const symbolIndex = parts.findIndex((p) => p.type === 'currency');
  const integerIndex = parts.findIndex((p) => p.type === 'integer');
  let major = '';
  let minor = '';
  for (const part of parts) {
    if (part.type === 'integer' || part.type === 'group') major += part.value;
    else if (part.type === 'decimal' || part.type === 'fraction') minor += part.value;
  }
  return { symbol: parts[symbolIndex]?.value ?? currency, symbolAfter: symbolIndex > integerIndex, major, minor };
}

/** The whole price as one string ("€2.49", "2,49 €"), for the small prices (was, member). */
export function formatPrice(priceMinor: number, currency: string, locale: string): string {
  const format = currencyFormat(currency, locale);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(priceMinor / 10 ** digits).replace(/\u00a0/g, ' ');
}
