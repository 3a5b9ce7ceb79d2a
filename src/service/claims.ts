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
 * A layer can also take a claim back (a contested GPU, docs/threat-model.md) and mark a
 * (uuid, hour) as disputed: both follow the same layers.
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

/** The bits of `mask` that `list` holds for (day, rig); 0 when none. */
function maskIn(masks: Masks, uuid: string, day: string, rig: string): number {
  const list = masks.get(uuid);
  let mask = 0;
  if (!list) return 0;
  for (let i = list.length - 3; i >= 0 && (list[i] as string) >= day; i -= 3) {
    if (list[i] === day && list[i + 1] === rig) mask |= list[i + 2] as number;
  }
  return mask;
}

/** Clear `mask`'s bits of (uuid, day, rig) in `masks`, if it holds them. */
function clearIn(masks: Masks, uuid: string, day: string, rig: string, mask: number): void {
  const list = masks.get(uuid);
  if (!list) return;
  for (let i = list.length - 3; i >= 0 && (list[i] as string) >= day; i -= 3) {
    if (list[i] === day && list[i + 1] === rig) list[i + 2] = (list[i + 2] as number) & ~mask;
  }
}

/** One layer of claims: the committed index at the bottom, a group's and a batch's above it. */
export class ClaimLayer {
  protected readonly masks: Masks = new Map();
  /** Claims this layer took back from the layers below it, in the same layout. */
  protected readonly removed: Masks = new Map();
  /** "uuid hour" pairs this layer marked disputed (paid to nobody until resolved). */
  protected readonly disputed = new Set<string>();
  constructor(private readonly parent: ClaimLayer | null) {}

  /** The rig paid for `uuid` in `hour` ("2019-04-15T12:00:00Z"), here or in any layer below. */
  owner(uuid: string, hour: string): string | null {
    return this.ownerAt(uuid, dayOf(hour), bitOf(hour));
  }

  private ownerAt(uuid: string, day: string, bit: number): string | null {
    const own = ownerIn(this.masks, uuid, day, bit);
    if (own !== null) return own;
    const below = this.parent?.ownerAt(uuid, day, bit) ?? null;
    if (below === null || this.removed.size === 0) return below;
    return (maskIn(this.removed, uuid, day, below) & bit) !== 0 ? null : below;
  }

  claim(uuid: string, hour: string, rig: string): void {
    addTo(this.masks, uuid, dayOf(hour), rig, bitOf(hour));
  }

  /** Take back the claim of `rig` on `uuid` for `hour` (it was paid for a GPU it must not keep). */
  unclaim(uuid: string, hour: string, rig: string): void {
    clearIn(this.masks, uuid, dayOf(hour), rig, bitOf(hour));
    addTo(this.removed, uuid, dayOf(hour), rig, bitOf(hour));
  }

  /** Whether `uuid` in `hour` is marked disputed here or below. */
  isDisputed(uuid: string, hour: string): boolean {
    if (this.disputed.size > 0 && this.disputed.has(`${uuid} ${hour}`)) return true;
    return this.parent?.isDisputed(uuid, hour) ?? false;
  }

  /** Mark `uuid` in `hour` disputed. */
  markDisputed(uuid: string, hour: string): void {
    this.disputed.add(`${uuid} ${hour}`);
  }

  /** Every hour of `day` that `rig` is paid for `uuid`, here and below: the row to store. */
  hoursOf(uuid: string, day: string, rig: string): number {
    const below = this.parent?.hoursOf(uuid, day, rig) ?? 0;
    return (below & ~maskIn(this.removed, uuid, day, rig)) | maskIn(this.masks, uuid, day, rig);
  }

  /** Whether `rig` is paid for `uuid` in some hour before `hour` that this index still holds. */
  paidBefore(uuid: string, hour: string, rig: string): boolean {
    const day = dayOf(hour);
    if ((this.hoursOf(uuid, day, rig) & (bitOf(hour) - 1)) !== 0) return true;
    for (const d of this.daysOf(uuid)) if (d < day && this.hoursOf(uuid, d, rig) !== 0) return true;
    return false;
  }

  /** The days any layer holds an entry for `uuid`. */
  private daysOf(uuid: string): Set<string> {
    const days = this.parent?.daysOf(uuid) ?? new Set<string>();
    const list = this.masks.get(uuid);
    if (list) for (let i = 0; i < list.length; i += 3) days.add(list[i] as string);
    return days;
  }

  /** Each (uuid, day, rig) this layer itself changed: the rows its transaction must write. */
  *changed(): Generator<[uuid: string, day: string, rig: string]> {
    for (const m of [this.masks, this.removed]) {
      for (const [uuid, list] of m)
        for (let i = 0; i < list.length; i += 3)
          yield [uuid, list[i] as string, list[i + 1] as string];
    }
  }

  /** The "uuid hour" pairs this layer itself marked disputed. */
  disputedHere(): Iterable<string> {
    return this.disputed;
  }

  /** A layer above this one, for a batch or a group that may still be rolled back. */
  child(): ClaimLayer {
    return new ClaimLayer(this);
  }

  /** Make this layer's changes part of the one below it (its transaction succeeded). */
  commit(): void {
    const p = this.parent;
    if (!p) return;
    for (const [uuid, list] of this.removed) {
      for (let i = 0; i < list.length; i += 3)
        p.takeBack(uuid, list[i] as string, list[i + 1] as string, list[i + 2] as number);
    }
    for (const [uuid, list] of this.masks)
      for (let i = 0; i < list.length; i += 3)
        addTo(p.masks, uuid, list[i] as string, list[i + 1] as string, list[i + 2] as number);
    for (const k of this.disputed) p.disputed.add(k);
    this.masks.clear();
    this.removed.clear();
    this.disputed.clear();
  }

  /** Remove bits that a layer above took back: from this layer, and (unless this is the bottom) below. */
  protected takeBack(uuid: string, day: string, rig: string, mask: number): void {
    clearIn(this.masks, uuid, day, rig, mask);
    if (this.parent) addTo(this.removed, uuid, day, rig, mask);
  }
}

/** The committed claims: the bottom layer, with loading and pruning. */
export class ClaimIndex extends ClaimLayer {
  /** Days before this one ("YYYY-MM-DD") have been dropped; no report for them can be credited. */
  private keptFrom = '';

  constructor() {
    super(null);
  }

  /** Forget that `uuid` in `hour` is disputed (an operator resolved it; the resolution is stored). */
  clearDisputed(uuid: string, hour: string): void {
    this.disputed.delete(`${uuid} ${hour}`);
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
    for (const k of this.disputed)
      if (k.slice(k.indexOf(' ') + 1, k.indexOf(' ') + 11) < day) this.disputed.delete(k);
  }

  /** How many (uuid, day, rig) entries the index holds. */
  get size(): number {
    let n = 0;
    for (const list of this.masks.values()) n += list.length / 3;
    return n;
  }
}
