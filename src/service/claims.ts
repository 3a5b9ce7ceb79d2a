/**
 * GPU claims: which rig was paid for a GPU uuid in which hour. A uuid is paid to one rig per hour
 * (docs/decisions.md, "Second claims"); a second rig reporting it for that hour is flagged.
 *
 * The index lives in memory on the thread that ingests, and is read at start from gpu_claims
 * (only the days a report could still be accepted for), so a claim costs no query. gpu_claims is
 * keyed by day, rig and uuid: a rig's GPUs share a page, and the rigs reporting the same hour
 * share a day's pages. (Keyed by uuid first, random values, every small commit dirtied a page
 * per GPU.)
 *
 * Changes are made in layers that mirror the store's transactions: a batch writes into its own
 * layer (a savepoint), which joins the group's layer when the batch succeeds; the group's layer
 * joins the index only after the commit. A rolled-back batch or group leaves no claim behind.
 */

/**
 * Per uuid: a flat list of [day, rig, 24-bit mask of hours, day, rig, mask, …], one entry per day
 * and rig (almost always one rig), in order of day. Keyed by the uuid alone, a lookup builds no
 * string; read from the end, it finds the latest days (where reports arrive) first and stops at
 * the first day before the one wanted, however many days the list holds.
 */
type Masks = Map<string, (string | number)[]>;

const dayOf = (hour: string): string => hour.slice(0, 10);
const bitOf = (hour: string): number => 1 << Number(hour.slice(11, 13));

function ownerIn(masks: Masks, uuid: string, day: string, bit: number): string | null {
  const list = masks.get(uuid);
  if (!list) return null;
  for (let i = list.length - 3; i >= 0 && (list[i] as string) >= day; i -= 3) {
    if (list[i] === day && ((list[i + 2] as number) & bit) !== 0) return list[i + 1] as string;
  }
  return null;
}

function addTo(masks: Masks, uuid: string, day: string, rig: string, mask: number): void {
  const list = masks.get(uuid);
  if (!list) {
    masks.set(uuid, [day, rig, mask]);
    return;
  }
  let i = list.length - 3;
  for (; i >= 0 && (list[i] as string) >= day; i -= 3) {
    if (list[i] === day && list[i + 1] === rig) {
      list[i + 2] = (list[i + 2] as number) | mask;
      return;
    }
  }
  // A new entry after the last one of an earlier day: at the end, unless an older day arrives late.
  if (i === list.length - 3) list.push(day, rig, mask);
  else list.splice(i + 3, 0, day, rig, mask);
}

export class ClaimLayer {
  protected readonly masks: Masks = new Map();
  constructor(private readonly parent: ClaimLayer | null) {}

  /** The rig paid for `uuid` in `hour` ("2019-04-15T12:00:00Z"), here or in any layer below. */
  owner(uuid: string, hour: string): string | null {
    return this.ownerAt(uuid, dayOf(hour), bitOf(hour));
  }

  private ownerAt(uuid: string, day: string, bit: number): string | null {
    return ownerIn(this.masks, uuid, day, bit) ?? this.parent?.ownerAt(uuid, day, bit) ?? null;
  }

  claim(uuid: string, hour: string, rig: string): void {
    addTo(this.masks, uuid, dayOf(hour), rig, bitOf(hour));
  }

  /** Every hour of `day` that `rig` is paid for `uuid`, here and below: the row to store. */
  hoursOf(uuid: string, day: string, rig: string): number {
    let mask = this.parent?.hoursOf(uuid, day, rig) ?? 0;
    const list = this.masks.get(uuid);
    if (list) for (let i = list.length - 3; i >= 0 && (list[i] as string) >= day; i -= 3) if (list[i] === day && list[i + 1] === rig) mask |= list[i + 2] as number;
    return mask;
  }

  /** Each (uuid, day, rig) this layer itself changed: the rows its transaction must write. */
  *changed(): Generator<[uuid: string, day: string, rig: string]> {
    for (const [uuid, list] of this.masks) for (let i = 0; i < list.length; i += 3) yield [uuid, list[i] as string, list[i + 1] as string];
  }

  /** A layer above this one, for a batch or a group that may still be rolled back. */
  child(): ClaimLayer {
    return new ClaimLayer(this);
  }

  /** Make this layer's claims part of the one below it (its transaction succeeded). */
  commit(): void {
    if (!this.parent) return;
    for (const [uuid, list] of this.masks) for (let i = 0; i < list.length; i += 3) addTo(this.parent.masks, uuid, list[i] as string, list[i + 1] as string, list[i + 2] as number);
    this.masks.clear();
  }
}

/** The committed claims: the bottom layer, with loading and pruning. */
export class ClaimIndex extends ClaimLayer {
  /** Days before this one ("YYYY-MM-DD") have been dropped; no report for them can be credited. */
  private keptFrom = '';

  constructor() {
    super(null);
  }

  /** Add one stored gpu_claims row: the hours of `day` that `rig` was paid for `uuid`. */
  load(uuid: string, day: string, rig: string, hours: number): void {
    addTo(this.masks, uuid, day, rig, hours);
  }

  /** Forget the days before `day`: reports for them are past every program's deadline. */
  prune(day: string): void {
    if (day <= this.keptFrom) return;
    this.keptFrom = day;
    for (const [uuid, list] of this.masks) {
      const kept = list.filter((_, i) => list[i - (i % 3)]! >= day);
      if (kept.length === 0) this.masks.delete(uuid);
      else if (kept.length < list.length) this.masks.set(uuid, kept);
    }
  }

  /** How many (uuid, day, rig) entries the index holds. */
  get size(): number {
    let n = 0;
    for (const list of this.masks.values()) n += list.length / 3;
    return n;
  }
}
