/**
 * One tenant's four streams: their change histories (populations) and how to render any record
 * at its current version. Contacts (2 per customer) and locations (1 per customer) are created
 * together with their customer but change on their own — as in ServiceTitan, a contact change does
 * not move the customer's modifiedOn.
 */
import {
  type ChangeEntry,
  createPopulation,
  type Population,
  type PopulationSpec,
  type RecordState,
} from './population.js';
import { createRng, type Rng } from './prng.js';
import {
  customerBase,
  ID_BASES,
  LEGACY_CREATED_ON,
  type RecordInput,
  renderContact,
  renderCustomer,
  renderInvoice,
  renderLocation,
  type SandboxStream,
  streamHash,
  type TenantSeed,
} from './records.js';

export const STREAMS: readonly SandboxStream[] = ['customers', 'contacts', 'locations', 'invoices'];

export interface TenantDataOptions {
  tenantId: number;
  seed: number;
  customers: number;
  invoices: number;
  changesPerTick: number | undefined;
  newPerTick: number | undefined;
  startMs: number;
  tickMs: number;
  /** How far before the start the initial records' modifiedOn values are spread. */
  historyMs: number;
}

export interface RecordMeta {
  active: boolean;
  modifiedAt: number;
  createdAt: number;
}

export interface TenantData {
  readonly tenantId: number;
  /** Applies ticks 1..k (idempotent; ticks never un-happen). */
  advanceTo(k: number): void;
  readonly currentTick: number;
  population(stream: SandboxStream): Population;
  count(stream: SandboxStream): number;
  meta(stream: SandboxStream, index: number): RecordMeta;
  render(stream: SandboxStream, index: number, shape?: 'export' | 'list'): Record<string, unknown>;
  idOf(stream: SandboxStream, index: number): number;
}

const SECOND = 1000;
const LEGACY_CREATED_AT = Date.parse(LEGACY_CREATED_ON);

export function createTenantData(options: TenantDataOptions): TenantData {
  const ctx: TenantSeed = { seed: options.seed, tenantId: options.tenantId };
  const { startMs, tickMs, historyMs } = options;
  const nCustomers = Math.max(0, Math.floor(options.customers));
  const nInvoices = Math.max(0, Math.floor(options.invoices));
  let currentTick = 0;

  const defaultRate = (n: number, fraction: number, cap: number): number =>
    Math.max(1, Math.min(cap, Math.round(n * fraction)));
  const changesFor = (n: number): number => options.changesPerTick ?? defaultRate(n, 0.002, 200);
  const newFor = (n: number): number => options.newPerTick ?? defaultRate(n, 0.001, 100);

  /**
   * Initial modifiedOn: spread evenly over the history, at whole seconds, and about one record in
   * eight shares its predecessor's timestamp so that equal timestamps straddle page boundaries.
   */
  const initialTimeline = (stream: SandboxStream, n: number) => {
    const raw = (i: number): number =>
      Math.floor((startMs - historyMs + Math.floor(((i - 1) * historyMs) / Math.max(1, n))) / SECOND) *
      SECOND;
    return (i: number): number =>
      i > 1 && streamHash(ctx, stream, i, 0x71e) % 8 === 0 ? raw(i - 1) : raw(i);
  };

  /** Sorted times inside tick k's window; some repeat the previous one, as bulk edits do. */
  const tickTimes = (rng: Rng, k: number, n: number): number[] => {
    const windowStart = startMs + (k - 1) * tickMs;
    const times = Array.from({ length: n }, () => windowStart + rng.int(tickMs));
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) if (rng.chance(0.15)) times[i] = times[i - 1]!;
    return times;
  };

  const pickChanges = (
    rng: Rng,
    k: number,
    countBefore: number,
    howMany: number,
    stateOf: (index: number) => RecordState,
    canMerge: boolean,
  ): ChangeEntry[] => {
    const n = Math.min(howMany, countBefore);
    const chosen = new Set<number>();
    while (chosen.size < n) chosen.add(1 + rng.int(countBefore));
    const times = tickTimes(rng, k, n);
    return [...chosen].map((index, i) => {
      const state = stateOf(index);
      const at = times[i]!;
      if (!state.active) return { index, at, kind: rng.chance(0.4) ? 'reactivate' : 'update' };
      const r = rng.next();
      if (r < 0.08) return { index, at, kind: 'deactivate' };
      if (canMerge && r < 0.14 && countBefore > 1) {
        let target = 1 + rng.int(countBefore - 1);
        if (target >= index) target++;
        return { index, at, kind: 'merge', target };
      }
      return { index, at, kind: 'update' };
    });
  };

  const tickRng = (stream: SandboxStream, k: number): Rng => createRng(streamHash(ctx, stream, k, 0x71c));

  const initialStatus =
    (stream: SandboxStream, inactiveRate: number, mergeRate: number) =>
    (index: number): { active: boolean; mergedTo: number } => {
      const r = createRng(streamHash(ctx, stream, index, 0x57a)).next();
      if (mergeRate && r < mergeRate && index > 1) {
        return { active: false, mergedTo: 1 + (streamHash(ctx, stream, index, 0x3e9) % (index - 1)) };
      }
      return { active: r >= mergeRate + inactiveRate, mergedTo: 0 };
    };

  const timing = { startMs, tickMs };
  const customerAt = initialTimeline('customers', nCustomers);
  const customers = createPopulation(
    {
      initialCount: nCustomers,
      initialAt: customerAt,
      initialStatus: initialStatus('customers', 0.04, 0.02),
      planTick(k, countBefore, stateOf) {
        const rng = tickRng('customers', k);
        return {
          created: tickTimes(rng, k, newFor(nCustomers)),
          changes: pickChanges(rng, k, countBefore, changesFor(nCustomers), stateOf, true),
        };
      },
    },
    timing,
  );
  const customersCreatedIn = (k: number): number[] =>
    customers
      .tickEntries(k)
      .filter((e) => e.kind === 'create')
      .map((e) => e.at);

  const derivedSpec = (stream: SandboxStream, perCustomer: number): PopulationSpec => ({
    initialCount: nCustomers * perCustomer,
    initialAt: (i) => customerAt(Math.ceil(i / perCustomer)),
    initialStatus: initialStatus(stream, 0.03, 0),
    planTick(k, countBefore, stateOf) {
      const rng = tickRng(stream, k);
      return {
        created: customersCreatedIn(k).flatMap((at) => Array.from({ length: perCustomer }, () => at)),
        changes: pickChanges(rng, k, countBefore, changesFor(nCustomers), stateOf, false),
      };
    },
  });
  const locations = createPopulation(derivedSpec('locations', 1), timing);
  const contacts = createPopulation(derivedSpec('contacts', 2), timing);

  const invoiceAt = initialTimeline('invoices', nInvoices);
  const invoices = createPopulation(
    {
      initialCount: nInvoices,
      initialAt: invoiceAt,
      initialStatus: initialStatus('invoices', 0.02, 0),
      planTick(k, countBefore, stateOf) {
        const rng = tickRng('invoices', k);
        return {
          created: tickTimes(rng, k, newFor(nInvoices)),
          changes: pickChanges(rng, k, countBefore, changesFor(nInvoices), stateOf, false),
        };
      },
    },
    timing,
  );

  const populations: Record<SandboxStream, Population> = { customers, contacts, locations, invoices };

  /** Creation precedes the first modification by up to 30 days (never for tick-created records). */
  const initialCreatedAt = (stream: SandboxStream, index: number, at: number): number => {
    const creationStream = stream === 'contacts' || stream === 'locations' ? 'customers' : stream;
    const creationIndex = stream === 'contacts' ? Math.ceil(index / 2) : index;
    const lag = streamHash(ctx, creationStream, creationIndex, 0xc7) % (30 * 86_400);
    return Math.min(at, customerOrInvoiceAt(creationStream, creationIndex)) - lag * SECOND;
  };
  const customerOrInvoiceAt = (stream: SandboxStream, index: number): number =>
    stream === 'invoices' ? invoiceAt(index) : customerAt(index);

  const input = (stream: SandboxStream, index: number): RecordInput => {
    const state = populations[stream].stateOf(index);
    return {
      index,
      version: state.tick,
      modifiedAt: state.at,
      createdAt: state.createdAt ?? initialCreatedAt(stream, index, state.at),
      active: state.active,
      mergedTo: state.mergedTo,
    };
  };

  /** An invoice's customer existed before it: initial invoices pick among proportionally older customers. */
  const invoiceCustomer = (index: number): number => {
    const state = invoices.stateOf(index);
    let pool: number;
    if (index <= nInvoices) pool = Math.max(1, Math.ceil((index * nCustomers) / Math.max(1, nInvoices)));
    else {
      const createdTick = Math.floor(((state.createdAt ?? startMs) - startMs) / tickMs) + 1;
      pool = customers.countAt(createdTick);
    }
    return 1 + (streamHash(ctx, 'invoices', index, 0xc05) % Math.max(1, pool));
  };

  return {
    tenantId: options.tenantId,
    get currentTick() {
      return currentTick;
    },
    advanceTo(k) {
      if (k <= currentTick) return;
      // Order matters: derived streams read the customers' tick to create their own records.
      customers.ensureTicks(k);
      locations.ensureTicks(k);
      contacts.ensureTicks(k);
      invoices.ensureTicks(k);
      currentTick = k;
    },
    population: (stream) => populations[stream],
    count: (stream) => populations[stream].countAt(currentTick),
    meta(stream, index) {
      const state = populations[stream].stateOf(index);
      // Legacy rows answer createdOn 0001-01-01, so date filters must see that date too.
      const legacyCandidate =
        (stream === 'customers' || stream === 'locations') && index <= nCustomers * 0.03;
      const legacy = legacyCandidate && customerBase(ctx, index, nCustomers).legacy;
      return {
        active: state.active,
        modifiedAt: state.at,
        createdAt: legacy
          ? LEGACY_CREATED_AT
          : (state.createdAt ?? initialCreatedAt(stream, index, state.at)),
      };
    },
    render(stream, index, shape = 'export') {
      const record = input(stream, index);
      switch (stream) {
        case 'customers':
          return renderCustomer(ctx, record, nCustomers);
        case 'locations':
          return renderLocation(ctx, record, nCustomers);
        case 'contacts':
          return renderContact(ctx, record, nCustomers, shape);
        case 'invoices':
          return renderInvoice(ctx, record, invoiceCustomer(index), nCustomers);
      }
    },
    idOf: (stream, index) => ID_BASES[stream] + index,
  };
}
