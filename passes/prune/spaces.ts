// Channel spaces: the union-find under the pruning dependency analysis (papers.md §1.2, steps 2-4 and 8). A space
// is a set of channels that must be removed together: a stem's output channels start one; a residual Add or a Mul
// of two stems' outputs joins theirs (union); a Concat along the channel axis makes an auxiliary space whose
// channels are its parts' channels at offsets. Everything a channel touches is recorded on its space's root: the
// constant slices that go with it, the values that carry it, the in-dim consumers where it ends (exits), and the
// barriers that forbid removing any of it.

/** Elements `unit` wide along `axis` of a constant, one block per channel of `space` (a flatten's columns). */
export interface ChannelSlice {
  readonly constant: string;
  readonly axis: number;
  readonly unit: number;
  readonly space: number;
  /** 'out': a stem's output rows (and biases, norm entries); 'in': a consumer's input columns. */
  readonly role: 'out' | 'in';
}

export interface SpaceRecord {
  readonly size: number;
  /** An auxiliary (Concat) space: channel offset + c is channel c of part `space`. */
  readonly parts?: readonly { readonly space: number; readonly offset: number }[];
  readonly producers: string[];
  readonly slices: ChannelSlice[];
  readonly values: string[];
  readonly exits: string[];
  readonly barriers: string[];
}

export class Spaces {
  private readonly parent: number[] = [];
  private readonly records: SpaceRecord[] = [];

  create(size: number, parts?: SpaceRecord['parts']): number {
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

  bar(id: number, why: string): void {
    const r = this.get(id);
    if (!r.barriers.includes(why)) r.barriers.push(why);
  }

  /** The roots, in creation order. */
  roots(): number[] {
    return this.parent.map((_, i) => i).filter((i) => this.root(i) === i);
  }
}
