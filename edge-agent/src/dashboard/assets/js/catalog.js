// SKU → product name, from the stock view (read once per page load; the catalog changes rarely).
import { api } from './api.js';

let names = null;

export async function productNames() {
  if (names !== null) return names;
  try {
    const stock = await api.get('/api/stock');
    names = new Map(stock.skus.map((s) => [s.sku, s.name]));
  } catch {
    names = new Map();
  }
  return names;
}

export function productName(map, sku) {
  return map.get(sku) ?? sku;
}
