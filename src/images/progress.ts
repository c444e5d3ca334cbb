/**
 * Sums a pull's or a push's per-layer events into one line of status (for a service's progress
 * row): "Downloading 45% of 12.3 MB", "Extracting 3/4 layers", "Pulled"; "Pushing 45% of 12.3 MB",
 * "Pushed". Pure: it only returns text.
 */
import type { PullEvent, PushEvent } from './types.js';

/** What both directions count: each layer's size, the bytes moved so far, the layers that need no transfer. */
abstract class LayerTransfer<E> {
  protected readonly sizes = new Map<string, number>();
  protected readonly moved = new Map<string, number>();
  /** layers already there (pull: present in the store; push: in the registry, or mounted there) */
  protected readonly skipped = new Set<string>();
  protected finished = false;

  /** Feeds one event; returns the current status line. */
  update(ev: E): string {
    this.record(ev);
    return this.text();
  }

  protected abstract record(ev: E): void;
  abstract text(): string;

  protected resolved(layers: ReadonlyArray<{ digest: string; size: number }>): void {
    for (const l of layers) this.sizes.set(l.digest, l.size);
  }

  /** Bytes moved so far and bytes to move (layers that need no transfer excluded). */
  bytes(): { current: number; total: number } {
    let current = 0;
    let total = 0;
    for (const [d, size] of this.sizes) {
      if (this.skipped.has(d)) continue;
      total += size;
      current += Math.min(size, this.moved.get(d) ?? 0);
    }
    return { current, total };
  }

  /** "<verb> 45% of 12.3 MB" while bytes remain to move, else undefined. */
  protected moving(verb: string): string | undefined {
    const { current, total } = this.bytes();
    return total > 0 && current < total ? `${verb} ${Math.floor((100 * current) / total)}% of ${(total / 1e6).toFixed(1)} MB` : undefined;
  }
}

export class PullProgress extends LayerTransfer<PullEvent> {
  private unpacked = new Set<string>();

  protected record(ev: PullEvent): void {
    switch (ev.kind) {
      case 'resolved':
        this.resolved(ev.layers);
        break;
      case 'layer-present':
        this.skipped.add(ev.digest);
        break;
      case 'download-resume':
        this.moved.set(ev.digest, ev.from);
        break;
      case 'download-progress':
        this.moved.set(ev.digest, ev.current);
        break;
      case 'download-done':
        this.moved.set(ev.digest, ev.size);
        break;
      case 'unpack-done':
        this.unpacked.add(ev.digest);
        break;
      case 'done':
        this.finished = true;
        break;
      default:
        break;
    }
  }

  text(): string {
    if (this.finished) return 'Pulled';
    if (this.sizes.size === 0) return 'Resolving';
    const downloading = this.moving('Downloading');
    if (downloading) return downloading;
    const layers = [...this.sizes.keys()].filter((d) => !this.skipped.has(d));
    const done = layers.filter((d) => this.unpacked.has(d)).length;
    if (layers.length > 0 && done < layers.length) return `Extracting ${done}/${layers.length} layers`;
    return 'Finishing';
  }
}

export class PushProgress extends LayerTransfer<PushEvent> {
  protected record(ev: PushEvent): void {
    switch (ev.kind) {
      case 'resolved':
        this.resolved(ev.layers);
        break;
      case 'layer-exists':
      case 'layer-mounted':
        this.skipped.add(ev.digest);
        break;
      case 'upload-progress':
        this.moved.set(ev.digest, ev.current);
        break;
      case 'upload-done':
        this.moved.set(ev.digest, ev.size);
        break;
      case 'done':
        this.finished = true;
        break;
      default:
        break;
    }
  }

  text(): string {
    if (this.finished) return 'Pushed';
    if (this.sizes.size === 0) return 'Preparing';
    return this.moving('Pushing') ?? 'Finishing';
  }
}
