/**
 * GPU claims: which rig was paid for a GPU uuid in which hour. A uuid is paid to one rig per hour
 * (rewards-program.md); a second rig reporting it for that hour is flagged instead.
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

/** Per "uuid|day": a flat list of [rig, 24-bit mask of hours, rig, mask, …] (almost always one rig). */
type Masks = Map<string, (string | number)[]>;

const keyOf = (uuid: string, day: string): string => `${uuid}|${day}`;
const dayOf = (hour: string): string => hour.slice(0, 10);
const bitOf = (hour: string): number => 1 << Number(hour.slice(11, 13));

function ownerIn(masks: Masks, key: string, bit: number): string | null {
  const list = masks.get(key);
  if (!list) return null;
  for (let i = 0; i < list.length; i += 2) if (((list[i + 1] as number) & bit) !== 0) return list[i] as string;
  return null;
}

function addTo(masks: Masks, key: string, rig: string, mask: number): void {
  const list = masks.get(key);
  if (!list) {
    masks.set(key, [rig, mask]);
    return;
  }
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === rig) {
      list[i + 1] = (list[i + 1] as number) | mask;
      return;
    }
  }
  list.push(rig, mask);
}

export class ClaimLayer {
  protected readonly masks: Masks = new Map();
  constructor(private readonly parent: ClaimLayer | null) {}

  /** The rig paid for `uuid` in `hour` ("2019-04-15T12:00:00Z"), here or in any layer below. */
  owner(uuid: string, hour: string): string | null {
    return this.ownerAt(keyOf(uuid, dayOf(hour)), bitOf(hour));
  }

  private ownerAt(key: string, bit: number): string | null {
    return ownerIn(this.masks, key, bit) ?? this.parent?.ownerAt(key, bit) ?? null;
  }

  claim(uuid: string, hour: string, rig: string): void {
    addTo(this.masks, keyOf(uuid, dayOf(hour)), rig, bitOf(hour));
  }

  /** Every hour of `day` that `rig` is paid for `uuid`, here and below: the row to store. */
  hoursOf(uuid: string, day: string, rig: string): number {
    return this.hoursAt(keyOf(uuid, day), rig);
  }

  private hoursAt(key: string, rig: string): number {
    let mask = this.parent?.hoursAt(key, rig) ?? 0;
    const list = this.masks.get(key);
    if (list) for (let i = 0; i < list.length; i += 2) if (list[i] === rig) mask |= list[i + 1] as number;
    return mask;
  }

  /** A layer above this one, for a batch or a group that may still be rolled back. */
  child(): ClaimLayer {
    return new ClaimLayer(this);
  }

  /** Make this layer's claims part of the one below it (its transaction succeeded). */
  commit(): void {
    if (!this.parent) return;
    for (const [key, list] of this.masks) for (let i = 0; i < list.length; i += 2) addTo(this.parent.masks, key, list[i] as string, list[i + 1] as number);
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
    addTo(this.masks, keyOf(uuid, day), rig, hours);
  }

  /** Forget the days before `day`: reports for them are past every program's deadline. */
  prune(day: string): void {
    if (day <= this.keptFrom) return;
    this.keptFrom = day;
    for (const key of this.masks.keys()) if (key.slice(key.length - 10) < day) this.masks.delete(key);
  }

  get size(): number {
    return this.masks.size;
  }
}
