// Channel spaces: the union-find under the pruning dependency analysis (papers.md §1.2, steps 2-4 and 8). A space
// is a set of channels that must be removed together: a stem's output channels start one; a residual Add or a Mul
// of two stems' outputs joins theirs (union); a Concat along the channel axis makes an auxiliary space whose
// channels are its parts' channels at offsets. Everything a channel touches is recorded on its space's root: the
// constant slices that go with it, the values that carry it, the in-dim consumers where it ends (exits), and the
// barriers that forbid removing any of it. A Split along the channel axis turns its input's space into an
// auxiliary space after the fact (its parts are the outputs' spaces). A space may be coarsened: a Reshape that
// splits the channel axis into heads makes each channel a block of head_dim channels, and GQA attention makes a
// channel the block of query heads that share a key/value head; units of everything recorded grow accordingly.

/** Elements `unit` wide along `axis` of a constant, one block per channel of `space` (a flatten's columns). */
export interface ChannelSlice {
  readonly constant: string;
  readonly axis: number;
  /** Grows when the space is coarsened. */
  unit: number;
  readonly space: number;
  /** 'out': a stem's output rows (and biases, norm entries); 'in': a consumer's input columns. */
  readonly role: 'out' | 'in';
}

/** Channels offset + c * scale .. + scale of an auxiliary space are channel c of part `space`. */
export interface SpacePart {
  readonly space: number;
  readonly offset: number;
  scale: number;
}

export interface SpaceRecord {
  size: number;
  /** An auxiliary (Concat, Split) space, made of its parts' channels. */
  parts?: SpacePart[];
  /** What the channels are, for reports and per-kind ratios: attention heads, or channels. */
  heads?: boolean;
  readonly producers: string[];
  readonly slices: ChannelSlice[];
  readonly values: string[];
  readonly exits: string[];
  readonly barriers: string[];
}

export class Spaces {
  private readonly parent: number[] = [];
  private readonly records: SpaceRecord[] = [];

  create(size: number, parts?: SpacePart[]): number {
    const id = this.parent.length;
    this.parent.push(id);
    this.records.push({ size, ...(parts ? { parts } : {}), producers: [], slices: [], values: [], exits: [], barriers: [] });
    return id;
  }

  root(id: number): number {
    let r = id;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[id] !== r) [id, this.parent[id]] = [this.parent[id]!, r];
    return r;
  }

  get(id: number): SpaceRecord {
    return this.records[this.root(id)]!;
  }

  /** Tie two spaces' channels one to one (a residual Add). Unequal sizes, or an auxiliary space, cannot be tied. */
  union(a: number, b: number, where: string): number {
    const [ra, rb] = [this.root(a), this.root(b)];
    if (ra === rb) return ra;
    const [x, y] = [this.records[ra]!, this.records[rb]!];
    this.parent[rb] = ra;
    x.producers.push(...y.producers);
    x.slices.push(...y.slices);
    x.values.push(...y.values);
    x.exits.push(...y.exits);
    x.barriers.push(...y.barriers);
    if (x.size !== y.size) x.barriers.push(`${where} joins ${x.size} channels with ${y.size}`);
    if (x.parts || y.parts) x.barriers.push(`${where} joins a concatenation's channels with others`);
    return ra;
  }

  /**
   * Make every `factor` consecutive channels of id's space one channel: the record's size shrinks, its slices'
   * units grow, and so do the scales of the auxiliary spaces it is part of. False (and a barrier) when the size is
   * not a multiple or the space is itself auxiliary. The caller grows the units of the values it tracks.
   */
  coarsen(id: number, factor: number, where: string): boolean {
    const r = this.root(id);
    const rec = this.records[r]!;
    if (factor === 1) return true;
    if (rec.size % factor !== 0 || rec.parts) {
      this.bar(r, `${where} groups ${factor} channels of ${rec.size}${rec.parts ? ' split or concatenated ones' : ''}`);
      return false;
    }
    rec.size /= factor;
    for (const s of rec.slices) s.unit *= factor;
    for (const a of this.roots()) for (const p of this.records[a]!.parts ?? []) if (this.root(p.space) === r) p.scale *= factor;
    return true;
  }

  bar(id: number, why: string): void {
    const r = this.get(id);
    if (!r.barriers.includes(why)) r.barriers.push(why);
  }

  /** The roots, in creation order. */
  roots(): number[] {
    return this.parent.map((_, i) => i).filter((i) => this.root(i) === i);
  }
}
