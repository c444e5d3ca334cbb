/**
 * Sums a pull's per-layer events into one line of status (for a service's progress row):
 * "Downloading 45% of 12.3 MB", "Extracting 3/4 layers", "Pulled". Pure: it only returns text.
 */
import type { PullEvent, PushEvent } from './types.js';

export class PullProgress {
  private sizes = new Map<string, number>();
  private got = new Map<string, number>();
  private unpacked = new Set<string>();
  private present = new Set<string>();
  private finished = false;

  /** Feeds one event; returns the current status line. */
  update(ev: PullEvent): string {
    switch (ev.kind) {
      case 'resolved':
        for (const l of ev.layers) this.sizes.set(l.digest, l.size);
        break;
      case 'layer-present':
        this.present.add(ev.digest);
        break;
      case 'download-resume':
        this.got.set(ev.digest, ev.from);
        break;
      case 'download-progress':
        this.got.set(ev.digest, ev.current);
        break;
      case 'download-done':
        this.got.set(ev.digest, ev.size);
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
    return this.text();
  }

  /** Bytes downloaded so far and bytes to download (layers already present excluded). */
  bytes(): { current: number; total: number } {
    let current = 0;
    let total = 0;
    for (const [d, size] of this.sizes) {
      if (this.present.has(d)) continue;
      total += size;
      current += Math.min(size, this.got.get(d) ?? 0);
    }
    return { current, total };
  }

  text(): string {
    if (this.finished) return 'Pulled';
    if (this.sizes.size === 0) return 'Resolving';
    const { current, total } = this.bytes();
    const layers = [...this.sizes.keys()].filter((d) => !this.present.has(d));
    if (total > 0 && current < total) {
      return `Downloading ${Math.floor((100 * current) / total)}% of ${(total / 1e6).toFixed(1)} MB`;
    }
    const done = layers.filter((d) => this.unpacked.has(d)).length;
    if (layers.length > 0 && done < layers.length) return `Extracting ${done}/${layers.length} layers`;
    return 'Finishing';
  }
}

/** Sums a push's per-layer events into one status line: "Pushing 45% of 12.3 MB", "Pushed". */
export class PushProgress {
  private sizes = new Map<string, number>();
  private sent = new Map<string, number>();
  private skipped = new Set<string>();
  private finished = false;

  update(ev: PushEvent): string {
    switch (ev.kind) {
      case 'resolved':
        for (const l of ev.layers) this.sizes.set(l.digest, l.size);
        break;
      case 'layer-exists':
      case 'layer-mounted':
        this.skipped.add(ev.digest);
        break;
      case 'upload-progress':
        this.sent.set(ev.digest, ev.current);
        break;
      case 'upload-done':
        this.sent.set(ev.digest, ev.size);
        break;
      case 'done':
        this.finished = true;
        break;
      default:
        break;
    }
    return this.text();
  }

  text(): string {
    if (this.finished) return 'Pushed';
    if (this.sizes.size === 0) return 'Preparing';
    let current = 0;
    let total = 0;
    for (const [d, size] of this.sizes) {
      if (this.skipped.has(d)) continue;
      total += size;
      current += Math.min(size, this.sent.get(d) ?? 0);
    }
    if (total > 0 && current < total) return `Pushing ${Math.floor((100 * current) / total)}% of ${(total / 1e6).toFixed(1)} MB`;
    return 'Finishing';
  }
}
