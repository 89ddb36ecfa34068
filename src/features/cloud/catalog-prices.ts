// Hourly prices from SkyPilot's own catalog, when SkyPilot has downloaded it (~/.sky/catalogs/vN/<cloud>/vms.csv,
// fetched at its first use and refreshed every few hours). Read locally and only as an estimate: the picker
// shows "from $X/h" when a price is found and nothing otherwise; it never waits for the network.
// Pure Node (no VS Code), so it is unit-tested with small catalog files.

import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CloudTarget } from '../../core/cloud/types';

interface CatalogRow {
  instanceType: string;
  accelerator: string;
  acceleratorCount: number;
  price: number | undefined;
  spotPrice: number | undefined;
}

/** The newest schema version folder (v8 for SkyPilot 0.14); undefined when SkyPilot never fetched a catalog. */
async function catalogDir(root: string): Promise<string | undefined> {
  try {
    const versions = (await readdir(root)).filter((name) => /^v\d+$/.test(name));
    versions.sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)));
    return versions[0] ? join(root, versions[0]) : undefined;
  } catch {
    return undefined;
  }
}

const toNumber = (text: string | undefined): number | undefined => {
  const value = Number.parseFloat(text ?? '');
  return Number.isFinite(value) ? value : undefined;
};

/** The columns we need of a catalog CSV (no quoted commas in these columns). */
export function parseCatalog(text: string): CatalogRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines.shift() ?? '').split(',');
  const column = (name: string) => header.indexOf(name);
  const [type, accelerator, count, price, spot] = ['InstanceType', 'AcceleratorName', 'AcceleratorCount', 'Price', 'SpotPrice'].map(column);
  if (type === -1 || price === -1) return [];
  const rows: CatalogRow[] = [];
  for (const line of lines) {
    if (!line) continue;
    const cells = line.split(',');
    rows.push({
      instanceType: cells[type!] ?? '',
      accelerator: accelerator === -1 ? '' : (cells[accelerator!] ?? ''),
      acceleratorCount: toNumber(count === -1 ? undefined : cells[count!]) ?? 0,
      price: toNumber(cells[price!]),
      spotPrice: spot === -1 ? undefined : toNumber(cells[spot!]),
    });
  }
  return rows;
}

function cheapest(rows: CatalogRow[], spot: boolean): number | undefined {
  const prices = rows
    .map((row) => (spot ? (row.spotPrice ?? row.price) : row.price))
    .filter((value): value is number => value !== undefined);
  return prices.length ? Math.min(...prices) : undefined;
}

/**
 * The lowest hourly price of one node of the target over all regions: the instance's row (AWS and Azure price
 * the GPU with the instance), plus the GPU's own row where the cloud prices it apart (GCP's n1 + T4).
 */
export function priceOf(target: CloudTarget, rows: CatalogRow[], spot = false): number | undefined {
  if (!target.instanceType) return undefined;
  const machine = rows.filter((row) => row.instanceType === target.instanceType);
  const instancePrice = cheapest(machine, spot);
  if (instancePrice === undefined) return undefined;
  const [name, countText] = (target.accelerators ?? '').split(':');
  const gpuIncluded = !name || machine.some((row) => row.accelerator.toLowerCase() === name.toLowerCase());
  if (gpuIncluded) return instancePrice;
  const count = Number(countText ?? '1') || 1;
  const gpuRows = rows.filter(
    (row) => !row.instanceType && row.accelerator.toLowerCase() === name.toLowerCase() && row.acceleratorCount === count,
  );
  const gpuPrice = cheapest(gpuRows, spot);
  return gpuPrice === undefined ? undefined : instancePrice + gpuPrice;
}

/**
 * Prices of the targets SkyPilot's local catalog knows, by target id. Missing catalogs, clouds or rows are
 * simply absent; nothing is downloaded.
 */
export async function catalogPrices(
  targets: readonly CloudTarget[],
  options: { spot?: boolean; catalogRoot?: string } = {},
): Promise<Map<string, number>> {
  const prices = new Map<string, number>();
  const dir = await catalogDir(options.catalogRoot ?? join(homedir(), '.sky', 'catalogs'));
  if (!dir) return prices;
  const clouds = [...new Set(targets.map((target) => target.cloud).filter((cloud): cloud is string => !!cloud))];
  const catalogs = new Map<string, CatalogRow[]>();
  await Promise.all(
    clouds.map(async (cloud) => {
      try {
        catalogs.set(cloud, parseCatalog(await readFile(join(dir, cloud, 'vms.csv'), 'utf8')));
      } catch {
        // This cloud's catalog was never fetched.
      }
    }),
  );
  for (const target of targets) {
    const rows = target.cloud ? catalogs.get(target.cloud) : undefined;
    const price = rows ? priceOf(target, rows, options.spot) : undefined;
    if (price !== undefined) prices.set(target.id, price);
  }
  return prices;
}
